/**
 * Feeds: one identity's entries, linked by `parent`, ordered by `comparable`.
 *
 * Chain rules: a root has parent null; every other entry's parent is an entry
 * of the same identity with a strictly lower comparable (so a chain can never
 * loop). The head is the highest-comparable entry whose chain reaches a root
 * without breaking; equal comparables are ordered by hash so every peer picks
 * the same head. Deletion is a rebase: the entries after the deleted one are
 * re-signed onto the kept prefix with their own comparables, and a `rebase`
 * entry above the old head maps old names to new ones, so the new chain
 * supersedes; the old entries stay addressable by hash (orphans).
 */
import type { Hash, Identity } from './encoding.ts';
import { createEntry, type Entry } from './entry.ts';
import { fail, ok, type ProtocolError, type Result } from './errors.ts';
import type { KeyPair } from './keys.ts';
import { REBASE_ITEMS } from './payloads.ts';

export type ChainTrace =
  /** Head first, root last. */
  | { readonly status: 'complete'; readonly chain: readonly Entry[] }
  /** Everything held from the head down; `missing` is the next parent to fetch. */
  | { readonly status: 'missing'; readonly chain: readonly Entry[]; readonly missing: Hash }
  | { readonly status: 'broken'; readonly chain: readonly Entry[]; readonly error: ProtocolError };

/** The rule for one link; `parent` is the entry `child.body.parent` resolved to. */
export function checkLink(child: Entry, parent: Entry): Result<true> {
  if (parent.hash !== child.body.parent) return fail('broken_chain', `${child.hash}: parent is not the entry it names`);
  if (parent.body.identity !== child.body.identity) {
    return fail('broken_chain', `${child.hash}: parent ${parent.hash} belongs to another identity`);
  }
  if (child.body.comparable <= parent.body.comparable) {
    return fail(
      'broken_chain',
      `${child.hash}: comparable ${child.body.comparable} does not rise above its parent's ${parent.body.comparable}`,
    );
  }
  return ok(true);
}

/** Walk from a head to its root through parents, checking every link. */
export function traceChain(head: Entry, lookup: (hash: Hash) => Entry | undefined, stopAt?: (hash: Hash) => boolean): ChainTrace {
  const chain: Entry[] = [head];
  let at = head;
  while (at.body.parent !== null) {
    if (stopAt?.(at.body.parent)) return { status: 'complete', chain };
    const parent = lookup(at.body.parent);
    if (!parent) return { status: 'missing', chain, missing: at.body.parent };
    const link = checkLink(at, parent);
    if (!link.ok) return { status: 'broken', chain, error: link.error };
    chain.push(parent);
    at = parent;
  }
  return { status: 'complete', chain };
}

/** What ranks a head among others: its comparable, then its hash. A stored head row has these without the entry. */
export interface HeadRank {
  readonly hash: Hash;
  readonly comparable: number;
}

const order = (ac: number, ah: Hash, bc: number, bh: Hash): number => bc - ac || (ah < bh ? -1 : ah > bh ? 1 : 0);

/** Higher comparable first; ties by hash, so all peers agree. Negative when `a` outranks `b`. */
export const compareHeads = (a: HeadRank, b: HeadRank): number => order(a.comparable, a.hash, b.comparable, b.hash);

/** compareHeads for entries. */
export const compareEntries = (a: Entry, b: Entry): number => order(a.body.comparable, a.hash, b.body.comparable, b.hash);

/** The rank of an entry, to compare it with a stored head. */
export const rankOf = (entry: Entry): HeadRank => ({ hash: entry.hash, comparable: entry.body.comparable });

/** An in-memory feed: any valid entry of the identity may be added, in any order. */
export class Feed {
  readonly #entries = new Map<Hash, Entry>();
  #head: Entry | null | undefined;

  constructor(readonly identity: Identity) {}

  add(entry: Entry): Result<true> {
    if (entry.body.identity !== this.identity) {
      return fail('wrong_identity', `entry of ${entry.body.identity} does not belong to the feed of ${this.identity}`);
    }
    if (!this.#entries.has(entry.hash)) {
      this.#entries.set(entry.hash, entry);
      this.#head = undefined;
    }
    return ok(true);
  }

  get(hash: Hash): Entry | undefined {
    return this.#entries.get(hash);
  }

  has(hash: Hash): boolean {
    return this.#entries.has(hash);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** All held entries, head-most first. */
  entries(): Entry[] {
    return [...this.#entries.values()].sort(compareEntries);
  }

  /** The highest entry whose chain is complete and unbroken. */
  head(): Entry | null {
    if (this.#head !== undefined) return this.#head;
    this.#head = null;
    const lookup = (h: Hash) => this.#entries.get(h);
    const unusable = new Set<Hash>();
    for (const candidate of this.entries()) {
      if (unusable.has(candidate.hash)) continue;
      const trace = traceChain(candidate, lookup);
      if (trace.status === 'complete') {
        this.#head = candidate;
        break;
      }
      // Everything on an incomplete or broken trace shares its fate; skip re-walking it.
      for (const e of trace.chain) unusable.add(e.hash);
    }
    return this.#head;
  }

  /** Root first, head last: the feed as a person reads it. */
  chain(): Entry[] {
    const head = this.head();
    if (!head) return [];
    const trace = traceChain(head, (h) => this.#entries.get(h));
    return [...trace.chain].reverse();
  }
}

/** The comparable for a new entry: a millisecond clock that never runs backwards. */
export const nextComparable = (parent: Entry | null, now = Date.now()): number => Math.max(now, (parent?.body.comparable ?? 0) + 1);

export interface RebaseOptions {
  /** The author's clock; the rebase entries' comparables start above the old head and above this. */
  now?: number;
  /** The synod claim of the rebase entries (§6.1); by default the old head's. */
  synod?: readonly [Identity, Hash] | null;
}

/**
 * Delete entries by rebasing (§8.4): returns the new entries to publish,
 * root first. `chain` is the current chain, root first. Every later entry
 * that is kept is re-signed onto the kept prefix with its own comparable
 * (its time and order stay), then one or more `rebase` entries name the old
 * head, map each old name to its new one and list what was removed; the
 * last rebase entry's comparable outranks the old head, so every peer (and
 * a room that refuses rollbacks) moves to the new chain.
 */
export async function rebase(
  keys: KeyPair,
  chain: readonly Entry[],
  remove: ReadonlySet<Hash>,
  options: RebaseOptions = {},
): Promise<Entry[]> {
  const first = chain.findIndex((e) => remove.has(e.hash));
  if (first < 0) return [];
  const oldHead = chain[chain.length - 1] as Entry;
  let parent: Entry | null = first > 0 ? (chain[first - 1] as Entry) : null;
  const out: Entry[] = [];
  const items: ({ map: [Hash, Hash] } | { removed: Hash })[] = [];
  for (const old of chain.slice(first)) {
    if (remove.has(old.hash)) {
      items.push({ removed: old.hash });
      continue;
    }
    const next = await createEntry(keys, {
      parent: parent ? parent.hash : null,
      comparable: old.body.comparable,
      synod: old.body.synod,
      payload: old.body.payload,
    });
    items.push({ map: [old.hash, next.hash] });
    out.push(next);
    parent = next;
  }
  const synod = options.synod === undefined ? oldHead.body.synod : options.synod;
  let floor = Math.max(oldHead.body.comparable, parent?.body.comparable ?? 0);
  for (let i = 0; i < items.length; i += REBASE_ITEMS) {
    const part = items.slice(i, i + REBASE_ITEMS);
    const comparable = Math.max(options.now ?? Date.now(), floor + 1);
    floor = comparable;
    const next: Entry = await createEntry(keys, {
      parent: parent ? parent.hash : null,
      comparable,
      synod,
      payload: {
        type: 'rebase',
        from: oldHead.hash,
        map: part.flatMap((p) => ('map' in p ? [p.map] : [])),
        removed: part.flatMap((p) => ('removed' in p ? [p.removed] : [])),
      },
    });
    out.push(next);
    parent = next;
  }
  return out;
}
