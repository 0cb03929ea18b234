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

/** The newest `limit` entries across the heads' chains: a merge that reads one row past the answer per feed. */
export function newestAcross(store: IDBObjectStore, heads: readonly StoredHead[], limit: number): Entry[] {
  const out: Entry[] = [];
  if (limit <= 0) return out;
  const fronts: (Entry | null | undefined)[] = heads.map(() => undefined);
  const merge = () => {
    // Wait until every feed has shown its next entry (undefined: still reading).
    if (fronts.includes(undefined)) return;
    let best = -1;
    fronts.forEach((e, i) => {
      if (e && (best < 0 || compareEntries(e, fronts[best] as Entry) < 0)) best = i;
    });
    if (best < 0) return;
    const entry = fronts[best] as Entry;
    out.push(entry);
    if (out.length >= limit) return;
    fronts[best] = undefined;
    feeds[best]!.more(entry.body.parent);
  };
  const feeds = heads.map((h, i) =>
    descend(store, h.hash, h.identity, (entry) => {
      fronts[i] = entry;
      merge();
    }),
  );
  return out;
}
