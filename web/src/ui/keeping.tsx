/** Copies kept between friends (docs/protocol.md §13.11): who keeps a copy of your posts, whose you keep, for whom, and how much room. */
import { useEffect, useState } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { notify, peer } from '../engine.ts';
import { bytes, shortId } from '../lib/format.ts';
import { following } from '../relations.ts';
import { displayName, useAsync, useProfile } from './common.tsx';
import { useAction } from './forms.tsx';

function Who({ identity }: { identity: Identity }) {
  return (
    <a href={`#/id/${identity}`} title={identity}>
      {displayName(identity, useProfile(identity))}
    </a>
  );
}

const MB = 1024 * 1024;

export function Keeping() {
  const k = peer().keeping;
  const [, setVersion] = useState(0);
  useEffect(() => k.events.on('changed', () => setVersion((v) => v + 1)), [k]);
  const people = useAsync(following, []);
  const [quota, setQuota] = useState(String(Math.round(k.settings.quotaBytes / MB)));
  const { busy, run } = useAction({ notifyErrors: true });
  // Shown as chosen at once; the setting follows.
  const [chosen, setChosen] = useState(() => new Set(k.settings.friends));
  const keepers = [...new Set(k.keepers().map((x) => x.keeper))];
  const kept = k.kept();
  const toggle = (identity: Identity, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(identity);
    else next.delete(identity);
    setChosen(next);
    return run(async () => {
      const friends = k.settings.friends.filter((f) => f !== identity);
      await k.setSettings({ friends: on ? [...friends, identity] : friends });
      notify(on ? 'You now keep a copy of their posts when they ask.' : 'You no longer keep new copies for them.');
    });
  };
  return (
    <section aria-labelledby="keeping-h">
      <h3 id="keeping-h">Copies kept by friends</h3>
      <p class="hint">
        Friends who keep a copy of your posts pass them on while all your devices are offline. Your own devices keep each other's.
      </p>
      <h4>Who keeps a copy of your posts</h4>
      {keepers.length === 0 ? (
        <p class="empty">Nobody yet. A friend who chooses you below, on their device, keeps one the next time you are connected.</p>
      ) : (
        <ul class="rows" data-testid="keepers">
          {keepers.map((i) => (
            <li key={i} data-identity={i}>
              <Who identity={i} /> <code>{shortId(i)}</code>
            </li>
          ))}
        </ul>
      )}
      <h4>Whose posts you keep</h4>
      {kept.length === 0 ? (
        <p class="empty">None.</p>
      ) : (
        <ul class="rows" data-testid="kept">
          {kept.map((x) => (
            <li key={x.feed} data-identity={x.feed}>
              <Who identity={x.feed} /> <code>{shortId(x.feed)}</code>: {bytes(x.bytes)}
            </li>
          ))}
        </ul>
      )}
      <p class="hint">
        {bytes(k.usedBytes())} of {bytes(k.settings.quotaBytes)} used.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const mb = Number(quota);
          if (!Number.isFinite(mb) || mb < 0 || mb > 100_000) return notify('Give the room in megabytes, from 0 to 100000.', 'error');
          void run(async () => {
            await k.setSettings({ quotaBytes: Math.round(mb * MB) });
            notify(mb === 0 ? 'You keep no copies for others.' : `Up to ${mb} MB kept for others.`);
          });
        }}
      >
        <label>
          Room for others' posts (MB){' '}
          <input type="number" min={0} max={100000} value={quota} onInput={(e) => setQuota(e.currentTarget.value)} />
        </label>{' '}
        <button type="submit" disabled={busy}>
          Save
        </button>
      </form>
      <h4>Keep a copy for</h4>
      {(people.value ?? []).length === 0 ? (
        <p class="empty">Follow someone first; then choose here whom you keep a copy for.</p>
      ) : (
        <ul class="rows" data-testid="keep-for">
          {(people.value ?? []).map((i) => (
            <li key={i}>
              <label>
                <input type="checkbox" checked={chosen.has(i)} onChange={(e) => toggle(i, e.currentTarget.checked)} /> <Who identity={i} />
              </label>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
