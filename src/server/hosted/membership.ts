/**
 * Synod membership, proven (docs/hosted.md §4): X is a member of synod S if
 * X is S, or if S's own feed — folded at the newest head of S this server
 * knows — holds S's signed add_device for X and no revocation. A device's
 * claim (`synod: [S, h]` in its own entries) only says which synod to check:
 * it is signed by the device alone, so it never grants anything.
 *
 * Where S's feed comes from, in order:
 * 1. S's live lease here (exact: the lease's owners keep it current);
 * 2. else S's chain from the newest head of S known here (this room's
 *    tracked head, or the head the device's claim names when that one ranks
 *    higher), which the room asks the device itself to show: get_feed of S,
 *    every entry checked against the hash its child names and signed by S.
 *    The folded state is kept in memory per (S, head): a synod's chain from
 *    a given head is always the same, whoever shows it.
 *
 * What this cannot see without a lease: a revocation this server never
 * heard of. A lost device may still show an older chain where no newer head
 * of S was announced here; a synod that leases its feed here closes that.
 *
 * Asking a socket for its synod's chain waits for that socket's answers,
 * which its own handlers queue in front of: a handler must not await a proof
 * from its own socket (`pull: false` answers "unproven" instead; the caller
 * finishes outside the queue).
 */
import {
  checkLink,
  compareHeads,
  LIMITS,
  openEntry,
  synodState,
  type Entry,
  type Hash,
  type HeadRank,
  type Identity,
  type SynodState,
} from '../../protocol/index.ts';
import type { Conn } from '../room/conn.ts';
import { RequestError } from '../room/requests.ts';
import type { RoomApi } from '../room/service.ts';
import { HOSTED_LIMITS } from './limits.ts';
import { claimOf, leasedHead, leasedSynodState } from './synods.ts';

/** Only a pull from the socket could tell, and the caller did not allow one. */
export const UNPROVEN = 'unproven';
export type Unproven = typeof UNPROVEN;

export interface ProofOptions {
  /** A socket that may be asked to show the synod's chain. */
  prover?: Conn;
  /** Whether asking it is allowed now (never from inside that socket's own handler). */
  pull: boolean;
}

/** A synod's chain folded at one head. */
interface Folded {
  rank: HeadRank;
  /** Null when the chain does not fold (invalid, or longer than synodStateEntries). */
  state: SynodState | null;
}

const folded = new Map<string, Folded>();
/** Pulls per socket, by synod and head: one at a time, and a failed one is not retried for a while. */
const pulls = new WeakMap<Conn, Map<string, { at: number; result: Promise<Folded | null> }>>();
const RETRY_MS = 30_000;

/** The newest head of S this server knows without asking anyone. */
async function knownHead(room: RoomApi, synod: Identity, now: number): Promise<(HeadRank & { leased: boolean }) | null> {
  const [tracked, lease] = await Promise.all([room.heads.get(synod), leasedHead(room.bindings.DB, synod, now)]);
  const leased = lease && { hash: lease.head, comparable: lease.comparable, leased: true };
  if (tracked && (!leased || compareHeads(tracked, leased) < 0))
    return { hash: tracked.hash, comparable: tracked.comparable, leased: false };
  return leased;
}

/** S's chain from `head`, root first, as `conn` shows it; null when it cannot (does not hold it, refuses, is silent, lies). */
async function pullChain(room: RoomApi, conn: Conn, synod: Identity, head: Hash): Promise<Entry[] | 'too_long' | null> {
  const chain: Entry[] = [];
  let expected: Hash | null = head;
  while (expected) {
    if (chain.length >= HOSTED_LIMITS.provenChainEntries) return 'too_long';
    let reply;
    try {
      reply = await room.request(
        conn,
        { type: 'get_feed', identity: synod, from: expected, known: null, limit: LIMITS.feedBatch },
        HOSTED_LIMITS.pullAnswerMs,
      );
    } catch (err) {
      if (err instanceof RequestError) return null;
      throw err;
    }
    if (reply.type !== 'entries' || reply.identity !== synod || reply.entries.length === 0) return null;
    for (const text of reply.entries) {
      const opened = await openEntry(text, { identity: synod, hash: expected });
      if (!opened.ok) return null;
      const previous = chain[chain.length - 1];
      if (previous && !checkLink(previous, opened.value).ok) return null;
      chain.push(opened.value);
      expected = opened.value.body.parent;
      if (!expected) break;
    }
  }
  return chain.reverse();
}

/** S folded at `head`: from memory, or shown by the prover when allowed. Null when nobody here could show it. */
async function foldedAt(room: RoomApi, synod: Identity, head: Hash, opts: ProofOptions): Promise<Folded | null | Unproven> {
  const key = `${synod} ${head}`;
  const known = folded.get(key);
  if (known) return known;
  const conn = opts.prover;
  if (!conn) return null;
  let byConn = pulls.get(conn);
  const pending = byConn?.get(key);
  const now = Date.now();
  if (pending && now - pending.at < RETRY_MS) return opts.pull ? pending.result : UNPROVEN;
  if (!opts.pull) return UNPROVEN;
  const result = (async (): Promise<Folded | null> => {
    const chain = await pullChain(room, conn, synod, head);
    if (chain === null) return null;
    const top = chain === 'too_long' ? null : chain[chain.length - 1];
    const rank = top ? { hash: top.hash, comparable: top.body.comparable } : { hash: head, comparable: -1 };
    const fold = chain === 'too_long' ? null : await synodState(synod, chain);
    const out: Folded = { rank, state: fold?.ok ? fold.value : null };
    if (folded.size >= HOSTED_LIMITS.synodStates) folded.clear();
    folded.set(key, out);
    return out;
  })();
  if (!byConn) pulls.set(conn, (byConn = new Map()));
  byConn.set(key, { at: now, result });
  return result;
}

/**
 * S's state for membership checks: at S's lease, or at the newest head known
 * here (`claimHead`, a head of S some device's entry names, counts when it
 * ranks higher). Null when nothing here can tell.
 */
export async function synodStateFor(
  room: RoomApi,
  synod: Identity,
  opts: ProofOptions & { claimHead?: Hash | undefined },
  now = Date.now(),
): Promise<SynodState | null | Unproven> {
  const known = await knownHead(room, synod, now);
  if (opts.claimHead && opts.claimHead !== known?.hash) {
    const claimed = await foldedAt(room, synod, opts.claimHead, opts);
    if (claimed === UNPROVEN) return UNPROVEN;
    if (claimed && (!known || compareHeads(claimed.rank, known) < 0)) return claimed.state;
  }
  if (!known) return null;
  if (known.leased) return leasedSynodState(room.bindings.DB, synod, now);
  const at = await foldedAt(room, synod, known.hash, opts);
  return at === UNPROVEN ? UNPROVEN : (at?.state ?? null);
}

/**
 * Is `member` S itself, or an added, unrevoked device of S? The head of S to
 * fold is the newest known here, or the one the member's own claim names
 * (`claimHead`, looked up when not given) if that ranks higher.
 */
export async function isMember(
  room: RoomApi,
  synod: Identity,
  member: Identity,
  opts: ProofOptions & { claimHead?: Hash | undefined },
  now = Date.now(),
): Promise<boolean | Unproven> {
  if (member === synod) return true;
  let claimHead = opts.claimHead;
  if (claimHead === undefined) {
    const claim = await claimOf(room, member, now);
    if (claim?.synod === synod) claimHead = claim.head;
  }
  const state = await synodStateFor(room, synod, { ...opts, claimHead }, now);
  if (state === UNPROVEN) return UNPROVEN;
  const record = state?.devices.get(member);
  return record !== undefined && record.cut === null;
}

/** The synod `identity` is a proven device of (never itself), or null; the claim it makes says which synod to check. */
export async function synodOf(
  room: RoomApi,
  identity: Identity,
  opts: ProofOptions,
  now = Date.now(),
): Promise<Identity | null | Unproven> {
  const claim = await claimOf(room, identity, now);
  if (!claim || claim.synod === identity) return null;
  const member = await isMember(room, claim.synod, identity, { ...opts, claimHead: claim.head }, now);
  if (member === UNPROVEN) return UNPROVEN;
  return member ? claim.synod : null;
}

/** The synod a socket's identity is a proven device of; the socket itself is asked to show the chain. */
export const synodOfConn = (room: RoomApi, conn: Conn, pull: boolean, now = Date.now()) =>
  synodOf(room, conn.identity, { prover: conn, pull }, now);

/** The devices of S known here (empty when S's state is not known here). */
export async function devicesOf(room: RoomApi, synod: Identity, now = Date.now()): Promise<Identity[]> {
  const state = await synodStateFor(room, synod, { pull: false }, now);
  if (!state || state === UNPROVEN) return [];
  return [...state.devices.values()].filter((d) => d.cut === null).map((d) => d.device);
}
