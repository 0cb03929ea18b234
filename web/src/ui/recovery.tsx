/**
 * Me → Recovery friends: the friends who can give this account back if every
 * device is lost (any k of n), and the other side — shares this person keeps
 * for friends, their requests (released only with the code the friend reads
 * out), and the log of what was released.
 */
import { useState } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { defaultServers, dropboxRoom, notify, peer, recoveryTick, type PendingRequest } from '../engine.ts';
import { exactTime, shortId, when } from '../lib/format.ts';
import { following } from '../relations.ts';
import { displayName, ScreenTitle, useAsync, useProfile, Who } from './common.tsx';
import { Alert, Field, useAction } from './forms.tsx';

function Name({ identity }: { identity: Identity }) {
  return <>{displayName(identity, useProfile(identity))}</>;
}

const fallbackRoom = (): string | undefined => {
  const d = defaultServers().dropboxes[0];
  return d ? dropboxRoom(d) : undefined;
};

function Choose({ current, onDone }: { current: readonly Identity[]; onDone: () => void }) {
  const people = useAsync(following, []);
  const [chosen, setChosen] = useState<Identity[]>([...current]);
  const [threshold, setThreshold] = useState(Math.max(2, Math.ceil((current.length + 1) / 2)));
  const { busy, error, setError, run } = useAction();
  const n = chosen.length;
  const k = Math.min(Math.max(2, threshold), Math.max(2, n));
  // From the latest state: two clicks before a render must not lose the first.
  const toggle = (i: Identity) => setChosen((now) => (now.includes(i) ? now.filter((c) => c !== i) : [...now, i]));
  return (
    <form
      class="card"
      onSubmit={async (e) => {
        e.preventDefault();
        if (n < 2) return setError('Choose at least two friends.');
        await run(async () => {
          const fallback = fallbackRoom();
          const r = await peer().recovery.chooseFriends(chosen, k, fallback ? { fallback } : {});
          notify(
            `Shares sent to ${r.sent.length} friend${r.sent.length === 1 ? '' : 's'}${r.failed.length ? `; ${r.failed.length} could not be reached` : ''}.`,
          );
          onDone();
        });
      }}
    >
      <h3>Choose your recovery friends</h3>
      <p class="hint">People you follow. Pick people you would call if you lost your phone, and who know your voice.</p>
      {people.value?.length === 0 && <p class="empty">Follow the friends you want to choose first.</p>}
      <fieldset class="plain" disabled={busy}>
        <legend class="visually-hidden">Friends</legend>
        <ul class="rows choose-friends">
          {people.value?.map((i) => (
            <li key={i}>
              <label class="check">
                <input type="checkbox" checked={chosen.includes(i)} onChange={() => toggle(i)} />
                <span>
                  <Name identity={i} />
                </span>
              </label>
            </li>
          ))}
        </ul>
        <div class="field">
          <label for="recovery-threshold">Friends needed to recover</label>
          <select id="recovery-threshold" value={k} onChange={(e) => setThreshold(Number((e.target as HTMLSelectElement).value))}>
            {Array.from({ length: Math.max(1, n - 1) }, (_, i) => i + 2).map((v) => (
              <option key={v} value={v} disabled={v > Math.max(2, n)}>
                {v}
              </option>
            ))}
          </select>
          <p class="hint">
            {n >= 2 ? `Any ${k} of these ${n} can give your account back together. Fewer learn nothing about it.` : 'Choose two or more.'}
          </p>
        </div>
        <Alert>{error}</Alert>
        <div class="row">
          <button type="submit">{busy ? 'Sending shares…' : 'Send shares'}</button>
          <button type="button" class="secondary" onClick={onDone}>
            Cancel
          </button>
        </div>
      </fieldset>
    </form>
  );
}

function YourFriends() {
  const current = useAsync(() => peer().recovery.currentSet(), [recoveryTick.value]);
  const [choosing, setChoosing] = useState(false);
  const set = current.value?.record;
  if (choosing) return <Choose current={set?.friends ?? []} onDone={() => setChoosing(false)} />;
  return (
    <section class="card" aria-labelledby="your-friends">
      <h3 id="your-friends">Your recovery friends</h3>
      {set ? (
        <>
          <p data-testid="recovery-set">
            Any {set.threshold} of these {set.friends.length} friends can give your account back (chosen {when(current.value?.at ?? 0)}):
          </p>
          <ul class="people-inline">
            {set.friends.map((f) => (
              <li key={f}>
                <Who identity={f} avatar />
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>
          No one yet. If every device of yours is lost at once, friends you choose here can give your account back together, without your 24
          words.
        </p>
      )}
      <p class="hint">
        Each friend gets one share, sealed so only their devices can open it. Changing the friends sends new shares and asks the friends you
        left out to forget theirs; their apps do, but a share kept on purpose still counts with the old set’s others, so leave out only
        people you trust to let it go.
      </p>
      <button type="button" onClick={() => setChoosing(true)}>
        {set ? 'Change friends' : 'Choose friends'}
      </button>
    </section>
  );
}

function RequestCard({ r }: { r: PendingRequest }) {
  const [code, setCode] = useState('');
  const [account, setAccount] = useState<Identity>(r.candidates[0]?.share.account as Identity);
  const { busy, error, setError, run } = useAction();
  const named = (a: Identity) => r.candidates.find((c) => c.share.account === a)?.share.name ?? shortId(a);
  return (
    <li class="card recovery-request" data-request={r.hash}>
      <p>
        <strong>{r.name}</strong> asks, from a new device ({shortId(r.device)}), for{' '}
        {r.candidates.length === 1 ? `${named(account)}’s account` : 'their account'} back. <span class="hint">{when(r.receivedAt)}</span>
      </p>
      <p class="warning">
        Is this really them? Call them or meet them, and ask for the code their new device shows for you. Anyone can type a name.
      </p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (!/^\d{6}$/.test(code.replace(/[\s-]/g, ''))) return setError('The code is six digits.');
          await run(async () => {
            await peer().recovery.release(r.hash, account, code);
            notify(`Your share went to ${r.name}’s new device.`);
          });
        }}
      >
        {r.candidates.length > 1 && (
          <div class="field">
            <label for={`acct-${r.hash}`}>Whose account</label>
            <select id={`acct-${r.hash}`} value={account} onChange={(e) => setAccount((e.target as HTMLSelectElement).value as Identity)}>
              {r.candidates.map((c) => (
                <option key={c.share.account} value={c.share.account}>
                  {c.share.name ?? shortId(c.share.account)}
                </option>
              ))}
            </select>
          </div>
        )}
        <Field label="The code they read to you" inputMode="numeric" autoComplete="off" maxLength={9} value={code} onValue={setCode} />
        <Alert>{error}</Alert>
        <div class="row">
          <button type="submit" disabled={busy}>
            Release my share
          </button>
          <button type="button" class="secondary" disabled={busy} onClick={() => run(() => peer().recovery.decline(r.hash))}>
            Not them
          </button>
        </div>
      </form>
    </li>
  );
}

function Requests() {
  const requests = useAsync(() => peer().recovery.requests(), [recoveryTick.value], { onTick: false });
  if (!requests.value?.length) return null;
  return (
    <section aria-labelledby="requests">
      <h3 id="requests">Requests from friends</h3>
      <ul class="recovery-requests">
        {requests.value.map((r) => (
          <RequestCard key={r.hash} r={r} />
        ))}
      </ul>
    </section>
  );
}

function KeptAndLog() {
  // On every data tick too: a record written by another of this person's devices arrives by replication.
  const held = useAsync(() => peer().recovery.held(), [recoveryTick.value]);
  const log = useAsync(() => peer().recovery.log(), [recoveryTick.value]);
  return (
    <>
      <section class="card" aria-labelledby="kept">
        <h3 id="kept">Shares you keep for friends</h3>
        {held.value?.length ? (
          <ul class="rows" data-testid="held">
            {held.value.map((h) => (
              <li key={h.share.account}>
                <Who identity={h.share.account} /> — one of {h.share.friends} shares, {h.share.threshold} needed{' '}
                <span class="hint">(since {when(h.keptAt)})</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="hint">None. When a friend chooses you, their share arrives here by itself; it tells you nothing about their account.</p>
        )}
      </section>
      <section class="card" aria-labelledby="released">
        <h3 id="released">Log</h3>
        {log.value?.length ? (
          <ul class="rows" data-testid="release-log">
            {log.value.map((r) => (
              <li key={r.record.request}>
                {exactTime(r.at)}: released {r.record.name ?? shortId(r.record.account)}’s share to a new device ({shortId(r.record.to)}).
              </li>
            ))}
          </ul>
        ) : (
          <p class="hint">Nothing released. Every release is written here, on all your devices.</p>
        )}
      </section>
    </>
  );
}

export function RecoveryFriends() {
  return (
    <>
      <ScreenTitle>Recovery friends</ScreenTitle>
      <Requests />
      {peer().holdsSynodKey ? (
        <YourFriends />
      ) : (
        <p class="card">Your recovery friends are chosen on the device that holds your account key (the one that created it).</p>
      )}
      <KeptAndLog />
    </>
  );
}
