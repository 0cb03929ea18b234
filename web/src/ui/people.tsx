/** People: follow, block and mute by identity; someone's page (private.tsx: private notes to chosen people). */
import { useState } from 'preact/hooks';
import type { Entry, Identity } from '../../../src/protocol/index.ts';
import { notify, peer, tick, transportOf } from '../engine.ts';
import { shortId } from '../lib/format.ts';
import { Avatar, checkIdentity, displayName, IdentityCard, IdentityField, ScreenTitle, useAsync, useProfile, Who } from './common.tsx';
import { Alert, useAction } from './forms.tsx';
import { EntryList } from './entry.tsx';

/** Identities of this person's own account: never in "following". */
function ownIdentities(): Set<Identity> {
  const p = peer();
  const own = new Set<Identity>([p.identity]);
  const synod = p.synodIdentity;
  if (synod) {
    own.add(synod);
    for (const d of p.synodState()?.devices.keys() ?? []) own.add(d);
  }
  return own;
}

/** The people followed: accounts, and devices whose account is not itself followed. */
export async function following(): Promise<Identity[]> {
  const p = peer();
  const own = ownIdentities();
  const followed = p
    .watching()
    .filter((w) => w.reasons.includes('follow') && !own.has(w.identity))
    .map((w) => w.identity);
  const set = new Set(followed);
  // Devices of a followed account are shown as the account.
  const devicesOfFollowed = new Set<Identity>();
  for (const identity of followed) for (const d of p.synodState(identity)?.devices.keys() ?? []) devicesOfFollowed.add(d);
  const out: Identity[] = [];
  for (const identity of followed) {
    if (p.synodState(identity)) out.push(identity);
    else if (!devicesOfFollowed.has(identity)) {
      const prof = await p.profileOf(identity);
      if (!prof.synod || !set.has(prof.synod)) out.push(identity);
    }
  }
  return out;
}

export const isFollowing = (identity: Identity): boolean =>
  peer()
    .watching()
    .some((w) => w.identity === identity && w.reasons.includes('follow'));

async function blockedList(): Promise<Identity[]> {
  return (await peer().replica.store.getSetting<Identity[]>('blocked')) ?? [];
}

const BLOCKED = 'Blocked. You no longer share their data, and everyone can see you did.';
const MUTED = 'Muted. Only you can see that you did.';

/** Follow / Block / Mute buttons for one identity. */
export function Relations({ identity }: { identity: Identity }) {
  const p = peer();
  void tick.value;
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
          disabled={busy}
          onClick={act('Following. Their posts will sync when they or a friend of theirs is online.', () => p.follow(identity))}
        >
          {blocked ? 'Unblock and follow' : 'Follow'}
        </button>
      )}
      {followed && <span class="badge ok">Following</span>}
      <a class="button secondary" href={`#/inbox/${identity}`}>
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

function PersonRow({ identity }: { identity: Identity }) {
  const profile = useProfile(identity);
  const transport = transportOf(identity);
  return (
    <li class="person">
      <Avatar identity={identity} profile={profile} />
      <div>
        <a href={`#/id/${identity}`}>{displayName(identity, profile)}</a>
        <p class="hint">
          <code>{shortId(identity)}</code>
          {transport && <span class={`badge transport ${transport}`}>{transport}</span>}
        </p>
      </div>
    </li>
  );
}

/** Whom this account's other devices follow and this one does not (follows are per device). */
async function followedElsewhere(): Promise<Identity[]> {
  const p = peer();
  const state = p.synodState();
  if (!state) return [];
  const own = ownIdentities();
  const out = new Set<Identity>();
  for (const d of state.devices.values()) {
    if (d.device === p.identity || d.cut !== null) continue;
    for (const e of await p.feed(d.device, 2000)) {
      const pl = e.body.payload;
      if (pl.type === 'follow' && !own.has(pl.identity) && !isFollowing(pl.identity) && !p.replica.isBlocked(pl.identity))
        out.add(pl.identity);
    }
  }
  return [...out];
}

function FollowLikeOtherDevices() {
  const others = useAsync(followedElsewhere, []);
  const { busy, run } = useAction({ notifyErrors: true });
  const n = others.value?.length ?? 0;
  if (n === 0) return null;
  return (
    <section class="card">
      <p>
        Your other devices follow {n} {n === 1 ? 'identity' : 'identities'} this device does not. Follows belong to each device, so this one
        replicates only what you choose here.
      </p>
      <button
        type="button"
        disabled={busy}
        onClick={() =>
          run(async () => {
            for (const i of others.value ?? []) await peer().follow(i);
            tick.value++;
            notify('Following them here too.');
          })
        }
      >
        Follow them here too
      </button>
    </section>
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
      <FollowLikeOtherDevices />
      <section class="card">
        <h3>Find someone</h3>
        <p class="hint">Paste an identity someone gave you, or scan their QR code (on their Profile screen).</p>
        <IdentityField label="Their identity" value={text} onValue={setText} error={check.error} />
        {check.identity && (
          <div class="found">
            <PersonRow identity={check.identity} />
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

async function feedOf(identity: Identity): Promise<Entry[]> {
  const p = peer();
  const state = p.synodState(identity);
  const ids = state ? [identity, ...[...state.devices.values()].map((d) => d.device)] : [identity];
  const all = (await Promise.all(ids.map((i) => p.feed(i, 100)))).flat();
  return all.sort((a, b) => b.body.comparable - a.body.comparable).slice(0, 200);
}

export function IdentityPage({ identity: raw }: { identity: string }) {
  const check = checkIdentity(raw);
  const identity = check.identity;
  if (!identity) {
    return (
      <>
        <ScreenTitle>Unknown identity</ScreenTitle>
        <Alert>{check.error ?? 'No identity given.'}</Alert>
      </>
    );
  }
  return <IdentityView key={identity} identity={identity} />;
}

function IdentityView({ identity }: { identity: Identity }) {
  const p = peer();
  const profile = useProfile(identity);
  const feed = useAsync(() => feedOf(identity), [identity]);
  const state = p.synodState(identity);
  const watched = p.replica.isWatched(identity);
  return (
    <>
      <div class="profile-head">
        <Avatar identity={identity} profile={profile} size={72} />
        <div>
          <ScreenTitle>{displayName(identity, profile)}</ScreenTitle>
          {profile?.about && <p class="about">{profile.about}</p>}
          {state ? (
            <p class="hint">An account with {[...state.devices.values()].filter((d) => d.cut === null).length} device(s).</p>
          ) : profile?.synod ? (
            <p class="hint">
              A device of <Who identity={profile.synod} />
            </p>
          ) : null}
        </div>
      </div>
      <Relations identity={identity} />
      <details class="card">
        <summary>Identity and QR code</summary>
        <IdentityCard identity={identity} title={`${displayName(identity, profile)}'s identity`} />
      </details>
      <h3>Posts</h3>
      {!watched && !feed.value?.length ? (
        <p class="empty">Follow to fetch their posts from the network.</p>
      ) : (
        <EntryList
          entries={feed.value}
          empty="No posts here yet: they arrive when this person, or someone who has their feed, is online."
        />
      )}
    </>
  );
}
