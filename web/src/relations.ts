/** Who is who to this person: their own identities, whom they follow, whom they blocked, and what someone else follows. */
import type { Identity } from '../../src/protocol/index.ts';
import { peer } from './engine.ts';

/** Identities of this person's own account: never "following", never a stranger. */
export function ownIdentities(): Set<Identity> {
  const p = peer();
  const own = new Set<Identity>([p.identity]);
  const synod = p.synodIdentity;
  if (synod) {
    own.add(synod);
    for (const d of p.synodState()?.devices.keys() ?? []) own.add(d);
  }
  return own;
}

export const isFollowing = (identity: Identity): boolean =>
  peer()
    .watching()
    .some((w) => w.identity === identity && w.reasons.includes('follow'));

/** The people followed: accounts, and devices whose account is not itself followed. */
export async function following(): Promise<Identity[]> {
  const p = peer();
  const own = ownIdentities();
  const followed = p
    .watching()
    .filter((w) => w.reasons.includes('follow') && !own.has(w.identity))
    .map((w) => w.identity);
  const set = new Set(followed);
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

export async function blockedList(): Promise<Identity[]> {
  return (await peer().replica.store.getSetting<Identity[]>('blocked')) ?? [];
}

/** The identities that make up a person: the account and its live devices, or the identity alone. */
export function identitiesOf(identity: Identity): Identity[] {
  const state = peer().synodState(identity);
  return state ? [identity, ...[...state.devices.values()].filter((d) => d.cut === null).map((d) => d.device)] : [identity];
}

/** Whom someone follows, as their feeds held here say (a later block undoes a follow), newest first. */
export async function followsOf(identity: Identity): Promise<Identity[]> {
  const p = peer();
  const decided = new Map<Identity, boolean>();
  const feeds = await Promise.all(identitiesOf(identity).map((i) => p.feed(i, 2000)));
  const entries = feeds.flat().sort((a, b) => b.body.comparable - a.body.comparable);
  for (const e of entries) {
    const pl = e.body.payload;
    if ((pl.type === 'follow' || pl.type === 'block') && !decided.has(pl.identity)) decided.set(pl.identity, pl.type === 'follow');
  }
  const mine = identitiesOf(identity);
  const out: Identity[] = [];
  for (const [who, follows] of decided) {
    if (!follows || mine.includes(who)) continue;
    // Devices of an account listed as the account, once.
    const person = await p.personOf(who);
    if (!out.includes(person)) out.push(person);
  }
  return out;
}
