/**
 * The walks down a feed's chain that deciding a head needs (replica.ts):
 * whether a candidate reaches a complete entry or a root with every link
 * valid, and whether it descends from the current head. Each is one read of
 * the store, bounded by a `fits` predicate, so a long feed is never walked
 * further than the question needs; the replica keeps the state (which
 * entries are complete, which a synod rule refuses) and passes it in.
 */
import { checkLink, type Entry, type Hash, type ProtocolError } from '../protocol/index.ts';
import type { Store, StoredHead } from './store.ts';

/** What the replica knows that a walk reads. */
export interface WalkState {
  /** Entries known to sit on a complete, valid chain: walks stop at them. */
  readonly complete: ReadonlySet<Hash>;
  /** A held entry a synod rule now refuses (said so by the replica). */
  refused(entry: Entry): boolean;
}

export function linkError(child: Entry, parent: Entry): ProtocolError | null {
  const r = checkLink(child, parent);
  return r.ok ? null : r.error;
}

/**
 * Walk down from `start` (already checked itself when `checked`) to a
 * known-complete entry or a root, checking every link and synod claim, in
 * one read of the store. Null when the chain is broken or incomplete.
 * `reached` is the complete entry the walk stopped at (null: a root).
 */
export async function reachesComplete(
  store: Store,
  state: WalkState,
  start: Entry,
  checked: boolean,
): Promise<{ synodOps: boolean; reached: Hash | null } | null> {
  const { complete } = state;
  let synodOps = start.body.payload.type === 'synod';
  if (!checked && state.refused(start)) return null;
  if (complete.has(start.hash)) return { synodOps, reached: start.hash };
  if (start.body.parent === null) return { synodOps, reached: null };
  let reached = false;
  const below = await store.chain(start.body.parent, {
    limit: Infinity,
    identity: start.body.identity,
    // Read up to and including the first complete entry.
    fits: (e) => !reached && ((reached = complete.has(e.hash)), true),
  });
  let at = start;
  for (const parent of below) {
    if (linkError(at, parent)) return null;
    if (complete.has(parent.hash)) return { synodOps, reached: parent.hash };
    if (state.refused(parent)) return null;
    synodOps ||= parent.body.payload.type === 'synod';
    at = parent;
  }
  return at.body.parent === null ? { synodOps, reached: null } : null;
}

/** Whether `head` is on the chain below `entry` (read down to its comparable only). */
export async function descends(store: Store, entry: Entry, head: StoredHead): Promise<boolean> {
  if (entry.body.parent === null) return false;
  const below = await store.chain(entry.body.parent, {
    limit: Infinity,
    identity: entry.body.identity,
    fits: (e) => e.body.comparable >= head.comparable,
  });
  return below.some((e) => e.hash === head.hash);
}
