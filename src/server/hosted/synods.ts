/**
 * What the server holds about synods: an identity's *claim* (the synod its
 * newest held entry names, and at which synod head), and a synod's state
 * folded from its leased feed. Membership itself — the synod's signed
 * add_device, never the device's own word — is membership.ts.
 *
 * An identity's newest held entry is the head tracked in this room
 * (headtracking.ts) or the head of its live lease, whichever ranks higher.
 */
import { compareHeads, synodState, trustedEntry, type Entry, type Hash, type Identity, type SynodState } from '../../protocol/index.ts';
import type { RoomApi } from '../room/service.ts';
import { HOSTED_LIMITS } from './limits.ts';

export interface LeasedHead {
  identity: Identity;
  head: Hash;
  comparable: number;
  /** The head entry's text (null if it went missing). */
  text: string | null;
}

/** The live lease's head of `identity`, with its entry. */
export async function leasedHead(db: D1Database, identity: string, now: number): Promise<LeasedHead | null> {
  return db
    .prepare(
      `SELECT l.identity AS identity, l.head AS head, l.comparable AS comparable, e.text AS text
       FROM leases l LEFT JOIN leased_entries e ON e.hash = l.head
       WHERE l.identity = ? AND l.expires_at > ?`,
    )
    .bind(identity, now)
    .first<LeasedHead>();
}

/** A synod an entry names, and the synod head it names. */
export interface Claim {
  synod: Identity;
  head: Hash;
}

const claimIn = (hash: Hash, text: string | null | undefined): Claim | null => {
  const synod = text ? trustedEntry(hash, text).body.synod : null;
  return synod ? { synod: synod[0], head: synod[1] } : null;
};

/** What `identity`'s newest held entry claims, or null. The claim is the entry's signer's word only. */
export async function claimOf(room: RoomApi, identity: Identity, now = Date.now()): Promise<Claim | null> {
  const [tracked, leased] = await Promise.all([room.heads.get(identity), leasedHead(room.bindings.DB, identity, now)]);
  if (tracked && (!leased || compareHeads(tracked, { hash: leased.head, comparable: leased.comparable }) < 0)) {
    return claimIn(tracked.hash, (await room.heads.entries([tracked.hash])).get(tracked.hash)?.text);
  }
  return leased ? claimIn(leased.head, leased.text) : null;
}

const leasedStates = new Map<string, SynodState | null>();

/** S's state folded from its leased feed, or null when S has no live, complete, short enough lease here. */
export async function leasedSynodState(db: D1Database, synod: Identity, now = Date.now()): Promise<SynodState | null> {
  const lease = await db
    .prepare('SELECT head, entries FROM leases WHERE identity = ? AND expires_at > ?')
    .bind(synod, now)
    .first<{ head: Hash; entries: number }>();
  if (!lease || lease.entries > HOSTED_LIMITS.synodStateEntries) return null;
  const key = `${synod} ${lease.head}`;
  if (leasedStates.has(key)) return leasedStates.get(key) ?? null;
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
  if (leasedStates.size >= HOSTED_LIMITS.synodStates) leasedStates.clear();
  leasedStates.set(key, state);
  return state;
}
