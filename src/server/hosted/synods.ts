/**
 * Who belongs to which synod, as far as this server can tell. Used by the
 * dropbox (a device collects its synod's drops) and by data leases (a
 * synod's devices lease for each other). The rule, in docs/hosted.md:
 *
 * 1. An identity's *claim* is the synod named in its newest entry the server
 *    holds: the head tracked in this room (headtracking.ts) or the head of its
 *    live lease, whichever ranks higher.
 * 2. X is a member of synod S if X is S; else, when the server holds a live
 *    lease of S's feed (complete, at most synodStateEntries long), if S's
 *    folded state lists X as an added, unrevoked device; else, if X claims S.
 *
 * A claim is signed only by the claimant, so where the synod's feed is not
 * leased here, membership rests on the device's word; leasing the synod's
 * feed makes every check here exact.
 */
import { compareHeads, synodState, trustedEntry, type Entry, type Hash, type Identity, type SynodState } from '../../protocol/index.ts';
import type { RoomApi } from '../room/service.ts';
import { HOSTED_LIMITS } from './limits.ts';

export interface LeasedHead {
  identity: Identity;
  head: Hash;
  comparable: number;
  synod: Identity | null;
}

/** The live lease's head of `identity`, with its synod claim. */
export async function leasedHead(db: D1Database, identity: string, now: number): Promise<LeasedHead | null> {
  return db
    .prepare(
      `SELECT l.identity AS identity, l.head AS head, l.comparable AS comparable, e.synod AS synod
       FROM leases l LEFT JOIN leased_entries e ON e.hash = l.head
       WHERE l.identity = ? AND l.expires_at > ?`,
    )
    .bind(identity, now)
    .first<LeasedHead>();
}

/** The synod `identity` claims in the newest of its heads the server holds (rule 1), or null. */
export async function claimedSynod(room: RoomApi, identity: Identity, now = Date.now()): Promise<Identity | null> {
  const [tracked, leased] = await Promise.all([room.heads.get(identity), leasedHead(room.bindings.DB, identity, now)]);
  if (tracked && leased) {
    return compareHeads(tracked, { hash: leased.head, comparable: leased.comparable }) < 0 ? tracked.synod : leased.synod;
  }
  return tracked?.synod ?? leased?.synod ?? null;
}

const stateCache = new Map<string, SynodState | null>();

/** S's state folded from its leased feed, or null when S has no live, complete, short enough lease here. */
export async function leasedSynodState(db: D1Database, synod: Identity, now = Date.now()): Promise<SynodState | null> {
  const lease = await db
    .prepare('SELECT head, entries FROM leases WHERE identity = ? AND expires_at > ?')
    .bind(synod, now)
    .first<{ head: Hash; entries: number }>();
  if (!lease || lease.entries > HOSTED_LIMITS.synodStateEntries) return null;
  const key = `${synod} ${lease.head}`;
  if (stateCache.has(key)) return stateCache.get(key) ?? null;
  const rows = await db
    .prepare('SELECT hash, parent, text FROM leased_entries WHERE identity = ? AND pull IS NULL LIMIT ?')
    .bind(synod, HOSTED_LIMITS.synodStateEntries + 1)
    .all<{ hash: Hash; parent: Hash | null; text: string }>();
  const byHash = new Map(rows.results.map((r) => [r.hash, r]));
  const chain: Entry[] = [];
  let at = byHash.get(lease.head);
  while (at && chain.length <= rows.results.length) {
    chain.push(trustedEntry(at.hash, at.text));
    if (at.parent === null) break;
    at = byHash.get(at.parent);
  }
  let state: SynodState | null = null;
  if (chain.length > 0 && chain[chain.length - 1]!.body.parent === null) {
    const folded = await synodState(synod, chain.reverse());
    state = folded.ok ? folded.value : null;
  }
  if (stateCache.size >= 256) stateCache.clear();
  stateCache.set(key, state);
  return state;
}

/** Rule 2: is `member` the synod itself or one of its devices? */
export async function isMember(room: RoomApi, synod: Identity, member: Identity, now = Date.now()): Promise<boolean> {
  if (member === synod) return true;
  const state = await leasedSynodState(room.bindings.DB, synod, now);
  if (state) {
    const record = state.devices.get(member);
    return record !== undefined && record.cut === null;
  }
  return (await claimedSynod(room, member, now)) === synod;
}

/** The synod `identity` belongs to by rule 2 (never itself), or null. */
export async function synodOf(room: RoomApi, identity: Identity, now = Date.now()): Promise<Identity | null> {
  const claim = await claimedSynod(room, identity, now);
  if (!claim || claim === identity) return null;
  return (await isMember(room, claim, identity, now)) ? claim : null;
}

/**
 * May `caller` (a session identity) lease `identity`'s feed? Itself; its
 * synod; a device of its synod, or of the synod it is.
 */
export async function mayLease(room: RoomApi, caller: Identity, identity: Identity, now = Date.now()): Promise<boolean> {
  if (caller === identity) return true;
  const callerSynod = await synodOf(room, caller, now);
  // identity is the caller's synod
  if (callerSynod === identity) return true;
  // identity is a device of the synod the caller is, or of the caller's synod
  const identitySynod = await synodOf(room, identity, now);
  if (identitySynod !== null && (identitySynod === caller || identitySynod === callerSynod)) return true;
  return false;
}
