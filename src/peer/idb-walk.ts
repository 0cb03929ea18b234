/**
 * Reading feeds along their parents inside one IndexedDB transaction. A
 * feed's entries sit in the `byIdentity` index ordered by comparable, and a
 * parent's comparable is lower than its child's (docs/protocol.md §8.1), so
 * a descending cursor below an entry meets its parent next, after any
 * orphans or other branches in between, which are skipped. After a run of
 * skips the parent is looked up by hash instead and the cursor starts again
 * below it. The callbacks fill the returned array; the transaction's
 * completion says when it is done.
 */
import { compareEntries, type Entry, type Hash, type Identity } from '../protocol/index.ts';
import { trustedEntry, type ChainWalk, type StoredHead } from './store.ts';

export interface EntryRow {
  hash: string;
  text: string;
  identity: string;
  comparable: number;
}

/** Rows skipped in a row before the parent is looked up by hash. */
const SKIPS = 32;

const below = (row: EntryRow) => IDBKeyRange.bound([row.identity, 0], [row.identity, row.comparable], false, true);

/**
 * One feed read downwards from an entry: `next` is called with each chain
 * entry found (or null at the end), and `more()` asks for the one after.
 */
function descend(store: IDBObjectStore, from: Hash, identity: Identity | undefined, next: (entry: Entry | null) => void) {
  const index = store.index('byIdentity');
  let expected: Hash | null = from;
  let cursor: IDBCursorWithValue | null = null;
  let last: EntryRow | null = null;
  let skipped = 0;
  const found = (row: EntryRow) => {
    if (identity !== undefined && row.identity !== identity) return next(null);
    last = row;
    skipped = 0;
    next(trustedEntry(row.hash as Hash, row.text));
  };
  const lookUp = (hash: Hash) => {
    cursor = null;
    const got = store.get(hash);
    got.onsuccess = () => (got.result ? found(got.result as EntryRow) : next(null));
  };
  const onRow = (request: IDBRequest<IDBCursorWithValue | null>) => () => {
    cursor = request.result;
    if (!cursor) return next(null);
    const row = cursor.value as EntryRow;
    if (row.hash === expected) found(row);
    else if (++skipped < SKIPS) cursor.continue();
    else lookUp(expected as Hash);
  };
  lookUp(from);
  return {
    more(parent: Hash | null): void {
      expected = parent;
      if (parent === null || !last) return next(null);
      if (cursor) return cursor.continue();
      const request = index.openCursor(below(last), 'prev');
      request.onsuccess = onRow(request);
    },
  };
}

/** `from` and its parents, as `walk` bounds them. */
export function walkDown(store: IDBObjectStore, from: Hash, walk: ChainWalk): Entry[] {
  const out: Entry[] = [];
  if (walk.limit <= 0 || from === walk.stop) return out;
  const feed = descend(store, from, walk.identity, (entry) => {
    if (!entry || (walk.fits && !walk.fits(entry))) return;
    out.push(entry);
    const parent = entry.body.parent;
    if (out.length < walk.limit && parent !== walk.stop) feed.more(parent);
  });
  return out;
}

/** Entries each feed reads ahead of the merge, so the merge seldom waits on a read. */
const AHEAD = 2;

/** The newest `limit` entries across the heads' chains: a merge, each feed reading a little ahead of it. */
export function newestAcross(store: IDBObjectStore, heads: readonly StoredHead[], limit: number): Entry[] {
  const out: Entry[] = [];
  if (limit <= 0) return out;
  interface Feed {
    queue: Entry[];
    /** The parent of the last entry read: where reading goes on. */
    below: Hash | null;
    reading: boolean;
    ended: boolean;
    reader: { more(parent: Hash | null): void };
  }
  const fill = (f: Feed) => {
    if (f.ended || f.reading || f.queue.length >= AHEAD) return;
    f.reading = true;
    f.reader.more(f.below);
  };
  const merge = () => {
    while (out.length < limit) {
      // Every feed must show its front (or be done) before the newest can be told.
      if (feeds.some((f) => f.queue.length === 0 && !f.ended)) return;
      let best: Feed | null = null;
      for (const f of feeds) if (f.queue.length > 0 && (!best || compareEntries(f.queue[0] as Entry, best.queue[0] as Entry) < 0)) best = f;
      if (!best) return;
      out.push(best.queue.shift() as Entry);
      fill(best);
    }
  };
  const feeds: Feed[] = heads.map((h) => {
    const f: Feed = { queue: [], below: null, reading: true, ended: false, reader: { more: () => undefined } };
    f.reader = descend(store, h.hash, h.identity, (entry) => {
      f.reading = false;
      if (!entry) f.ended = true;
      else {
        f.queue.push(entry);
        f.below = entry.body.parent;
        if (f.below === null) f.ended = true;
      }
      fill(f);
      if (out.length < limit) merge();
    });
    return f;
  });
  return out;
}
