/**
 * Start → I have an account → Recover through friends: a browser with no
 * account asks the friends the person chose for their shares. It shows one
 * code per friend, to read out on the phone or face to face: a friend
 * releases a share only with that code. With enough shares the account comes
 * back here, as after a restore from the 24 words.
 */
import { useState } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { defaultServers, explain, peer, recoveryTick, type PendingRecovery } from '../engine.ts';
import { guessDeviceName } from '../lib/format.ts';
import { checkIdentity, displayName, useAsync, useProfile } from './common.tsx';
import { IdentityField } from './identity-card.tsx';
import { Alert, Field, useAction } from './forms.tsx';

function FriendName({ identity }: { identity: Identity }) {
  return <>{displayName(identity, useProfile(identity))}</>;
}

const spaced = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;

function Ask({ onBack }: { onBack: () => void }) {
  const [name, setName] = useState('');
  const [device, setDevice] = useState(guessDeviceName());
  const [friends, setFriends] = useState<string[]>(['', '', '']);
  const [account, setAccount] = useState('');
  const { busy, error, setError, run } = useAction();
  const checks = friends.map(checkIdentity);
  const own = checkIdentity(account);
  return (
    <form
      class="card"
      onSubmit={async (e) => {
        e.preventDefault();
        const chosen = checks.map((c) => c.identity).filter((i): i is Identity => i !== null);
        if (checks.some((c) => c.error)) return setError('One of the links is not right: check the fields marked.');
        if (chosen.length < 2) return setError('Add at least two friends.');
        if (!name.trim()) return setError('Say who you are: your friends see this name.');
        await run(async () => {
          await peer().recovery.ask(chosen, name, {
            replyTo: defaultServers().dropboxes,
            deviceName: device.trim() || guessDeviceName(),
            ...(own.identity && { account: own.identity }),
          });
        });
      }}
    >
      <h3>Recover through friends</h3>
      <p>
        If you chose recovery friends, enough of them can give your account back. Add the friends you can reach: their invite links (they
        can send them, or show their QR code), or their identities.
      </p>
      <Field label="Your name, as your friends know you" maxLength={64} autoComplete="nickname" value={name} onValue={setName} />
      {friends.map((f, i) => (
        <IdentityField
          key={i}
          label={`Friend ${i + 1}`}
          value={f}
          onValue={(v) => setFriends((now) => now.map((x, j) => (j === i ? v : x)))}
          error={checks[i]?.error ?? null}
        />
      ))}
      <p>
        <button type="button" class="secondary small" onClick={() => setFriends((now) => [...now, ''])} disabled={friends.length >= 16}>
          Add a friend
        </button>
      </p>
      <details class="plain">
        <summary>More</summary>
        <IdentityField label="Your old invite link (if you have it)" value={account} onValue={setAccount} error={own.error} />
        <Field label="Name for this device" maxLength={64} value={device} onValue={setDevice} />
      </details>
      <Alert>{error}</Alert>
      <div class="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Asking…' : 'Ask them'}
        </button>
        <button type="button" class="secondary" onClick={onBack}>
          Back
        </button>
      </div>
    </form>
  );
}

function Waiting({ pending }: { pending: PendingRecovery }) {
  const progress = useAsync(() => peer().recovery.progress(), [recoveryTick.value], { onTick: false }).value;
  const released = new Set(progress?.released ?? []);
  const { busy, run } = useAction();
  return (
    <section class="card" aria-labelledby="asking">
      <h3 id="asking">Waiting for your friends</h3>
      <p>
        Call each friend, or meet them, and read them their code. They type it in Effigy to send you their share. Nobody else needs these
        codes.
      </p>
      <ul class="rows codes" data-testid="recovery-codes">
        {pending.asked.map((a) => (
          <li key={a.friend} data-friend={a.friend} data-code={a.code}>
            <span class="who-name">
              <FriendName identity={a.friend} />
            </span>
            {a.request ? (
              <>
                <code class="recovery-code" aria-label={`code for this friend: ${a.code.split('').join(' ')}`}>
                  {spaced(a.code)}
                </code>
                {released.has(a.friend) && <span class="badge ok">Answered</span>}
              </>
            ) : (
              <span class="error">Not reached: {a.error}</span>
            )}
          </li>
        ))}
      </ul>
      <p role="status" aria-live="polite" data-testid="recovery-progress" data-released={released.size}>
        {progress?.threshold
          ? released.size >= progress.threshold
            ? 'Enough friends answered: bringing your account back…'
            : `${released.size} of the ${progress.threshold} friends needed have answered.`
          : released.size > 0
            ? `${released.size} friend(s) answered.`
            : 'No answer yet. Keep this page open.'}
      </p>
      {progress?.failure && (
        <>
          <Alert>
            {explain(progress.failure)}. Your friends’ shares are kept here: try again while a friend who follows you is online.
          </Alert>
          <button type="button" disabled={busy} onClick={() => run(() => peer().recovery.retry())}>
            Try again
          </button>{' '}
        </>
      )}
      <button type="button" class="secondary" disabled={busy} onClick={() => run(() => peer().recovery.cancel())}>
        Stop asking
      </button>
    </section>
  );
}

export function RecoverThroughFriends({ onBack }: { onBack: () => void }) {
  const pending = useAsync(() => peer().recovery.pending(), [recoveryTick.value], { onTick: false });
  if (pending.loading && pending.value === undefined) return null;
  return pending.value ? <Waiting pending={pending.value} /> : <Ask onBack={onBack} />;
}
