/**
 * A private feed (src/peer/private-feed.ts), like a protected account:
 * - PrivateFeedSettings, the screen #/private-posts under Me: the switch, and the
 *   approved followers with Remove (which changes the key) and Add;
 * - ApproveFollower, on a person's page while the feed is private;
 * - PrivatePostsNote, on a person's page: how many of their posts are
 *   private and not readable here.
 * Mounted in app.tsx (route "private-posts"), me.tsx (its Settings row) and person.tsx.
 */
import { useState } from 'preact/hooks';
import type { Entry, Identity } from '../../../src/protocol/index.ts';
import { notify, peer, tick } from '../engine.ts';
import { checkIdentity, ScreenTitle, Who } from './common.tsx';
import { IdentityField } from './identity-card.tsx';
import { Alert, useAction } from './forms.tsx';

/** An entry as the engine's feed() gives it: a sealed one it could not open is marked closed. */
type ReadableEntry = Entry & { readonly sealed?: 'open' | 'closed' };

function bump(): void {
  tick.value++;
}

export function PrivateFeedSettings() {
  void tick.value;
  const feed = peer().privateFeed;
  const { busy, error, run } = useAction();
  // Shown at once; the engine's answer (a key drawn and given, when turned on) follows.
  const [on, setOn] = useState(feed.isPrivate);
  const [adding, setAdding] = useState('');
  const check = checkIdentity(adding);
  const followers = feed.followers();
  return (
    <>
      <ScreenTitle>Private posts</ScreenTitle>
      <p class="hint">
        While your posts are private, only the followers you approve can read them; everyone else sees that you posted, not what. Removing
        someone changes the key: they keep what they already read, and cannot read what comes after.
      </p>
      <label class="check">
        <input
          type="checkbox"
          checked={on}
          disabled={busy}
          onChange={(e) => {
            const wanted = (e.target as HTMLInputElement).checked;
            setOn(wanted);
            void run(async () => {
              try {
                await feed.setPrivate(wanted);
              } catch (err) {
                setOn(feed.isPrivate);
                throw err;
              }
              notify(wanted ? 'New posts are private.' : 'New posts are public.');
              bump();
            });
          }}
        />{' '}
        Make my new posts private
      </label>
      <Alert>{error}</Alert>
      <h3>Approved followers</h3>
      {followers.length === 0 ? (
        <p class="empty">Nobody yet.</p>
      ) : (
        <ul class="people" aria-label="Approved followers">
          {followers.map((f) => (
            <li key={f} class="row spread">
              <Who identity={f} avatar />
              <button
                type="button"
                class="secondary small"
                disabled={busy}
                onClick={() => void run(async () => (await feed.remove(f), notify('Removed; the key was changed.'), bump()))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const who = check.identity;
          if (!who) return;
          void run(async () => (await feed.approve(who), setAdding(''), notify('Approved.'), bump()));
        }}
      >
        <IdentityField label="Approve someone" value={adding} onValue={setAdding} error={check.error} />
        <button type="submit" disabled={busy || !check.identity}>
          Approve
        </button>
      </form>
    </>
  );
}

export function ApproveFollower({ identity }: { identity: Identity }) {
  void tick.value;
  const feed = peer().privateFeed;
  const { busy, run } = useAction({ notifyErrors: true });
  if (!feed.isPrivate && feed.followers().length === 0) return null;
  const approved = feed.followers().includes(identity);
  return (
    <button
      type="button"
      class="secondary small"
      disabled={busy}
      onClick={() =>
        void run(async () => {
          await (approved ? feed.remove(identity) : feed.approve(identity));
          notify(approved ? 'No longer approved for your private posts.' : 'Approved: they can read your private posts.');
          bump();
        })
      }
    >
      {approved ? 'Remove from private posts' : 'Approve for private posts'}
    </button>
  );
}

export function PrivatePostsNote({ entries }: { entries: readonly ReadableEntry[] | undefined }) {
  const closed = entries?.filter((e) => e.sealed === 'closed').length ?? 0;
  if (closed === 0) return null;
  return (
    <p class="hint" role="note">
      {closed} private post{closed === 1 ? '' : 's'} you cannot read: only followers they approve can.
    </p>
  );
}
