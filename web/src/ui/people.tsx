/** People: find someone (invite link, identity, QR), whom you follow, whom you blocked; the Follow / Message / Block / Mute buttons. */
import { useState } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { notify, peer, tick, transportOf } from '../engine.ts';
import { shortId } from '../lib/format.ts';
import { blockedList, following, isFollowing, ownIdentities } from '../relations.ts';
import { Avatar, checkIdentity, displayName, ScreenTitle, useAsync, useProfile } from './common.tsx';
import { IdentityField } from './identity-card.tsx';
import { useAction } from './forms.tsx';

const BLOCKED = 'Blocked. You no longer share their data, and everyone can see you did.';
const MUTED = 'Muted. Only you can see that you did.';

/** Follow / Message / Block / Mute for one identity. */
export function Relations({ identity, primary = false }: { identity: Identity; primary?: boolean }) {
  const p = peer();
  void tick.value;
  const profile = useProfile(identity);
  const blocked = p.replica.isBlocked(identity);
  const followed = isFollowing(identity);
  const { busy, run } = useAction({ notifyErrors: true });
  const act = (what: string, action: () => Promise<unknown>) => () =>
    run(async () => {
      await action();
      tick.value++;
      notify(what);
    });
  if (ownIdentities().has(identity)) return <p class="hint">This is you.</p>;
  return (
    <div class="row actions" role="group" aria-label="Relationship">
      {!followed && (
        <button
          type="button"
          class={primary ? 'big-action' : undefined}
          disabled={busy}
          onClick={act(profile?.name ? `Following ${profile.name}.` : 'Following.', () => p.follow(identity))}
        >
          {blocked ? 'Unblock and follow' : 'Follow'}
        </button>
      )}
      {followed && <span class="badge ok">Following</span>}
      <a class="button secondary" href={`#/thread/${identity}`}>
        Message
      </a>
      {!blocked && (
        <>
          <button type="button" class="secondary" disabled={busy} onClick={act(BLOCKED, () => p.block(identity))}>
            Block
          </button>
          <button type="button" class="secondary" disabled={busy} onClick={act(MUTED, () => p.mute(identity))}>
            Mute
          </button>
        </>
      )}
      {blocked && (
        <>
          <span class="badge warn">Blocked or muted</span>
          <button type="button" class="secondary" disabled={busy} onClick={act('Unblocked.', () => p.replica.setBlocked(identity, false))}>
            Unblock
          </button>
        </>
      )}
    </div>
  );
}

export function PersonRow({ identity }: { identity: Identity }) {
  const profile = useProfile(identity);
  const transport = transportOf(identity);
  return (
    <li class="person">
      <Avatar identity={identity} profile={profile} />
      <div>
        <a href={`#/id/${identity}`}>{displayName(identity, profile)}</a>
        <p class="hint">
          <code>{shortId(identity)}</code>
          {transport && <span class={`badge transport ${transport}`}>online</span>}
        </p>
      </div>
    </li>
  );
}

export function People() {
  const [text, setText] = useState('');
  const check = checkIdentity(text);
  const list = useAsync(following, []);
  const blocked = useAsync(blockedList, []);
  return (
    <>
      <ScreenTitle>People</ScreenTitle>
      <section class="card">
        <h3>Find someone</h3>
        <p class="hint">
          Open an invite link someone sent you, scan their QR code, or paste their link or identity here. Your own invite link is under{' '}
          <a href="#/me">Me</a>.
        </p>
        <IdentityField label="Their link or identity" value={text} onValue={setText} error={check.error} />
        {check.identity && (
          <div class="found">
            <ul class="people">
              <PersonRow identity={check.identity} />
            </ul>
            <Relations identity={check.identity} />
          </div>
        )}
      </section>
      <section>
        <h3>Following</h3>
        {list.value?.length ? (
          <ul class="people">
            {list.value.map((i) => (
              <PersonRow key={i} identity={i} />
            ))}
          </ul>
        ) : (
          <p class="empty">You do not follow anyone yet.</p>
        )}
      </section>
      {blocked.value && blocked.value.length > 0 && (
        <section>
          <h3>Blocked and muted</h3>
          <ul class="people">
            {blocked.value.map((i) => (
              <PersonRow key={i} identity={i} />
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
