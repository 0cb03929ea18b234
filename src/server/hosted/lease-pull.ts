/**
 * The pull of a data lease (docs/hosted.md §3.2): the room walks the feed
 * from the lease's new head down to the root, or to the chain it already
 * holds, asking the calling socket with `get_feed`. Every entry is validated
 * in full (openEntry with the identity and the expected hash, so each is the
 * parent the one before it names) and every link checked (checkLink: same
 * identity, comparable strictly rising). Entries are staged in D1 as they
 * arrive, so memory stays flat; datalease.ts commits them or leaves them to
 * the cleanup.
 */
import {
  checkLink,
  LIMITS,
  openEntry,
  type Entry,
  type Hash,
  type Identity,
  type WireErrorCode,
  type WireMessage,
  type WireOf,
} from '../../protocol/index.ts';
import { heldAmong, stageEntries, type StoredLease } from './lease-store.ts';
import { HOSTED_LIMITS } from './limits.ts';
import { directRefs, type Ref } from './refs.ts';

/** A pull failed for a reason the caller is told, with the wire code. */
export class PullError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Pull {
  db: D1Database;
  identity: Identity;
  /** The head to lease. */
  head: Hash;
  /** The live lease, whose chain the walk may stop at. */
  live: StoredLease | null;
  /** The pull's id, marking its staged entries. */
  id: string;
  started: number;
  /** Entries and entry bytes the leased feed may hold (LEASE_MAX_ENTRIES, LEASE_MAX_BYTES). */
  limits: { entries: number; bytes: number };
  /** Sends the calling socket a get_feed and answers its answer. */
  ask(request: Omit<WireOf<'get_feed'>, 'type' | 'id' | 're'>): Promise<WireMessage>;
}

export interface Pulled {
  head: Entry;
  /** Bytes of the entries new to storage. */
  bytes: number;
  /** Blobs the new entries reference, and which of them are directories. */
  refs: Ref[];
  directories: Hash[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Walks and stages the feed. Throws PullError for the caller's faults. */
export async function pullFeed(pull: Pull): Promise<Pulled> {
  const chain = new Chain(pull.identity, pull.live, pull.limits);
  const refs: Ref[] = [];
  const directories: Hash[] = [];
  let from: Hash | null = pull.head;
  for (let round = 1; from !== null; round++) {
    if (Date.now() - pull.started > HOSTED_LIMITS.pullTotalMs) {
      throw new PullError('unavailable', `the pull of ${pull.identity} took over ${HOSTED_LIMITS.pullTotalMs} ms; call again to continue`);
    }
    if (round > HOSTED_LIMITS.pullBurst) await sleep(HOSTED_LIMITS.pullPaceMs);
    const batch = await openBatch(pull.identity, from, await entriesFrom(pull, from));
    const last = batch[batch.length - 1] as Entry;
    const held = pull.live
      ? await heldAmong(pull.db, pull.identity, [...batch.map((e) => e.hash), ...(last.body.parent ? [last.body.parent] : [])])
      : new Map<Hash, Entry>();
    const fresh = chain.extend(batch, held);
    await stageEntries(pull.db, pull.identity, fresh, pull.id, Date.now());
    for (const e of fresh) {
      for (const r of directRefs(e.hash, e.body)) {
        refs.push(r);
        if (r.kind === 'directory') directories.push(r.hash);
      }
    }
    from = chain.next;
  }
  if (!chain.head) throw new PullError('internal', 'pull ended without a head');
  return { head: chain.head, bytes: chain.bytes, refs, directories };
}

/** The entries the calling socket answers for get_feed from `from`. */
async function entriesFrom(pull: Pull, from: Hash): Promise<string[]> {
  const reply = await pull.ask({ identity: pull.identity, from, known: pull.live?.head ?? null, limit: LIMITS.feedBatch });
  if (reply.type === 'error') {
    throw new PullError('unavailable', `the calling device refused get_feed for ${pull.identity}: ${reply.code}: ${reply.message}`);
  }
  if (reply.type !== 'entries') throw new PullError('unavailable', `get_feed for ${pull.identity} was answered with ${reply.type}`);
  if (reply.identity !== pull.identity) throw new PullError('bad_entry', `entries answered for ${reply.identity}, not ${pull.identity}`);
  if (reply.entries.length === 0) throw new PullError('not_found', `the calling device does not hold ${from} of ${pull.identity}`);
  return reply.entries;
}

/** Validates a batch in order: each entry must be the one its child names, the first the one asked for. */
async function openBatch(identity: Identity, from: Hash, texts: readonly string[]): Promise<Entry[]> {
  const batch: Entry[] = [];
  let expected: Hash | null = from;
  for (const text of texts) {
    if (expected === null) break;
    const opened = await openEntry(text, { identity, hash: expected });
    if (!opened.ok) throw new PullError('bad_entry', `entry ${expected} of ${identity}: ${opened.error.code}: ${opened.error.message}`);
    batch.push(opened.value);
    expected = opened.value.body.parent;
  }
  return batch;
}

/** The chain walked so far, head first, and the bounds of one lease. */
class Chain {
  head: Entry | null = null;
  /** Where the walk goes on; null once it reached a root or the chain already held. */
  next: Hash | null = null;
  #last: Entry | null = null;
  #entries: number;
  #bytes = 0;

  constructor(
    readonly identity: Identity,
    readonly live: StoredLease | null,
    readonly limits: { entries: number; bytes: number },
  ) {
    this.#entries = live?.entries ?? 0;
  }

  /** Bytes of the entries new to storage so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Links a validated batch on. Answers the entries new to storage. */
  extend(batch: readonly Entry[], held: ReadonlyMap<Hash, Entry>): Entry[] {
    const fresh: Entry[] = [];
    let done = false;
    for (const entry of batch) {
      const stop = held.get(entry.hash);
      this.#link(stop ?? entry);
      if (stop) {
        // Reached the chain already held; a head that is already held but not the lease's head is an older entry.
        if (!this.#last)
          throw new PullError(
            'rollback',
            `${entry.hash} is an older entry of ${this.identity} than the leased head ${this.live?.head ?? null}`,
          );
        done = true;
        break;
      }
      if (!this.head) this.#start(entry);
      fresh.push(entry);
      this.#last = entry;
      if (entry.body.parent === null) {
        done = true;
        break;
      }
    }
    const parent = this.#last?.body.parent;
    if (!done && parent && held.has(parent)) {
      this.#link(held.get(parent) as Entry);
      done = true;
    }
    this.#count(fresh);
    this.next = done ? null : ((this.#last as Entry).body.parent as Hash);
    return fresh;
  }

  #link(parent: Entry): void {
    if (!this.#last) return;
    const link = checkLink(this.#last, parent);
    if (!link.ok) throw new PullError('bad_entry', `${link.error.code}: ${link.error.message}`);
  }

  #start(head: Entry): void {
    const live = this.live;
    if (live && head.body.comparable < live.comparable) {
      throw new PullError(
        'rollback',
        `the leased head ${live.head} (comparable ${live.comparable}) outranks ${head.hash} (comparable ${head.body.comparable})`,
      );
    }
    this.head = head;
  }

  #count(fresh: readonly Entry[]): void {
    this.#entries += fresh.length;
    for (const e of fresh) this.#bytes += e.size;
    if (this.#entries > this.limits.entries) {
      throw new PullError('quota', `a lease here holds at most ${this.limits.entries} entries; ${this.identity}'s feed has more`);
    }
    if ((this.live?.bytes ?? 0) + this.#bytes > this.limits.bytes) {
      throw new PullError('quota', `a lease here holds at most ${this.limits.bytes} bytes of entries; ${this.identity}'s feed has more`);
    }
  }
}
