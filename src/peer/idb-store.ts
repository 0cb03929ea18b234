/**
 * The IndexedDB Store. Browsers may evict it; `open` asks for persistent
 * storage, and the engine re-syncs from peers and leases whatever is lost.
 *
 * Plain IndexedDB requests, no promise per row: a walk down a feed or the
 * newest entries across many feeds is one transaction whose cursor callbacks
 * run back to back, and a run of entries is written in one transaction.
 *
 * Versions: 1 had entries, heads, blobs, watch, secrets, settings, inbox.
 * 2 adds the heads' change log (a `seq` on each head written since, indexed)
 * and the per-peer notes; heads written under version 1 have no `seq` and
 * count as older than any note.
 */
import type { Entry, Hash, Identity } from '../protocol/index.ts';
import { newestAcross, walkDown, type EntryRow } from './idb-walk.ts';
import {
  MAX_NOTES,
  trustedEntry,
  type ChainWalk,
  type HeadLog,
  type InboxItem,
  type PeerNote,
  type StoredHead,
  type Store,
  type WatchRecord,
} from './store.ts';

const VERSION = 2;
const STORES = ['entries', 'heads', 'blobs', 'watch', 'secrets', 'settings', 'inbox', 'notes'] as const;
type StoreName = (typeof STORES)[number];

interface HeadRow extends StoredHead {
  seq?: number;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function finished(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

function upgrade(db: IDBDatabase, tx: IDBTransaction, from: number): void {
  if (from < 1) {
    db.createObjectStore('entries', { keyPath: 'hash' }).createIndex('byIdentity', ['identity', 'comparable']);
    db.createObjectStore('heads', { keyPath: 'identity' });
    db.createObjectStore('blobs', { keyPath: 'hash' });
    db.createObjectStore('watch', { keyPath: 'identity' });
    db.createObjectStore('secrets');
    db.createObjectStore('settings');
    db.createObjectStore('inbox', { keyPath: 'hash' });
  }
  if (from < 2) {
    tx.objectStore('heads').createIndex('bySeq', 'seq');
    db.createObjectStore('notes', { keyPath: 'peer' }).createIndex('byAt', 'at');
  }
}

const plainHead = (row: HeadRow): StoredHead => ({ identity: row.identity, hash: row.hash, comparable: row.comparable });

export class IdbStore implements Store {
  private constructor(private readonly db: IDBDatabase) {}

  /** `persisted` says whether the browser agreed to keep the data (false where it may evict). */
  static async open(name = 'effigy', options: { requestPersistence?: boolean } = {}): Promise<{ store: IdbStore; persisted: boolean }> {
    const opening = indexedDB.open(name, VERSION);
    opening.onupgradeneeded = (e) => upgrade(opening.result, opening.transaction as IDBTransaction, e.oldVersion);
    const db = await request(opening);
    // Another tab upgrading the schema must not wait for this one forever.
    db.onversionchange = () => db.close();
    let persisted = false;
    const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
    if (options.requestPersistence && storage?.persist) persisted = await storage.persist().catch(() => false);
    return { store: new IdbStore(db), persisted };
  }

  #read(name: StoreName | StoreName[]): IDBTransaction {
    return this.db.transaction(name, 'readonly');
  }
  /** Entries, heads and notes can be fetched again from peers: their writes need not wait for the disk. */
  #write(name: StoreName | StoreName[], relaxed = false): IDBTransaction {
    return this.db.transaction(name, 'readwrite', relaxed ? { durability: 'relaxed' } : undefined);
  }
  #get<T>(name: StoreName, key: IDBValidKey): Promise<T | undefined> {
    return request(this.#read(name).objectStore(name).get(key)) as Promise<T | undefined>;
  }
  async #put(name: StoreName, value: unknown, key?: IDBValidKey, relaxed = false): Promise<void> {
    const tx = this.#write(name, relaxed);
    tx.objectStore(name).put(value, key);
    await finished(tx);
  }

  putEntry(entry: Entry): Promise<void> {
    return this.putEntries([entry]);
  }
  async putEntries(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const tx = this.#write('entries', true);
    const store = tx.objectStore('entries');
    for (const e of entries)
      store.put({ hash: e.hash, text: e.text, identity: e.body.identity, comparable: e.body.comparable } satisfies EntryRow);
    await finished(tx);
  }
  async getEntry(hash: Hash): Promise<Entry | undefined> {
    const row = await this.#get<EntryRow>('entries', hash);
    return row ? trustedEntry(hash, row.text) : undefined;
  }
  async hasEntry(hash: Hash): Promise<boolean> {
    return (await request(this.#read('entries').objectStore('entries').count(hash))) > 0;
  }
  entriesOf(identity: Identity, limit = Infinity): Promise<Entry[]> {
    const out: Entry[] = [];
    const tx = this.#read('entries');
    const range = IDBKeyRange.bound([identity, 0], [identity, Number.MAX_SAFE_INTEGER]);
    const cursor = tx.objectStore('entries').index('byIdentity').openCursor(range, 'prev');
    cursor.onsuccess = () => {
      const at = cursor.result;
      if (!at || out.length >= limit) return;
      const row = at.value as EntryRow;
      out.push(trustedEntry(row.hash as Hash, row.text));
      at.continue();
    };
    return finished(tx).then(() => out);
  }
  chain(from: Hash, walk: ChainWalk): Promise<Entry[]> {
    const tx = this.#read('entries');
    const out = walkDown(tx.objectStore('entries'), from, walk);
    return finished(tx).then(() => out);
  }
  newest(heads: readonly StoredHead[], limit: number): Promise<Entry[]> {
    const tx = this.#read('entries');
    const out = newestAcross(tx.objectStore('entries'), heads, limit);
    return finished(tx).then(() => out);
  }

  async getHead(identity: Identity): Promise<StoredHead | undefined> {
    const row = await this.#get<HeadRow>('heads', identity);
    return row && plainHead(row);
  }
  /** The next position of the log is read in the same transaction, so tabs sharing the store never reuse one. */
  async setHead(head: StoredHead): Promise<number> {
    const tx = this.#write('heads', true);
    const heads = tx.objectStore('heads');
    const last = heads.index('bySeq').openCursor(null, 'prev');
    let seq = 0;
    last.onsuccess = () => {
      seq = ((last.result?.value as HeadRow | undefined)?.seq ?? 0) + 1;
      heads.put({ ...plainHead(head), seq } satisfies HeadRow);
    };
    await finished(tx);
    return seq;
  }
  async heads(): Promise<StoredHead[]> {
    return ((await request(this.#read('heads').objectStore('heads').getAll())) as HeadRow[]).map(plainHead);
  }
  async headLog(since: number): Promise<HeadLog> {
    const index = this.#read('heads').objectStore('heads').index('bySeq');
    const [rows, last] = await Promise.all([
      request(index.getAll(IDBKeyRange.lowerBound(since, true))) as Promise<HeadRow[]>,
      request(index.openCursor(null, 'prev')),
    ]);
    return { heads: rows.map(plainHead), seq: (last?.value as HeadRow | undefined)?.seq ?? 0 };
  }

  getNote(peer: Identity): Promise<PeerNote | undefined> {
    return this.#get<PeerNote>('notes', peer);
  }
  async putNote(note: PeerNote): Promise<void> {
    const tx = this.#write('notes', true);
    const notes = tx.objectStore('notes');
    notes.put(note);
    const count = notes.count();
    count.onsuccess = () => {
      let extra = count.result - MAX_NOTES;
      if (extra <= 0) return;
      const oldest = notes.index('byAt').openCursor();
      oldest.onsuccess = () => {
        const at = oldest.result;
        if (!at || extra-- <= 0) return;
        at.delete();
        at.continue();
      };
    };
    await finished(tx);
  }
  deleteNote(peer: Identity): Promise<void> {
    return this.#delete('notes', peer);
  }

  putBlob(hash: Hash, bytes: Uint8Array): Promise<void> {
    return this.#put('blobs', { hash, size: bytes.length, bytes });
  }
  async getBlob(hash: Hash): Promise<Uint8Array | undefined> {
    return (await this.#get<{ bytes: Uint8Array }>('blobs', hash))?.bytes;
  }
  async blobSize(hash: Hash): Promise<number | undefined> {
    return (await this.#get<{ size: number }>('blobs', hash))?.size;
  }
  watchList(): Promise<WatchRecord[]> {
    return request(this.#read('watch').objectStore('watch').getAll()) as Promise<WatchRecord[]>;
  }
  setWatch(record: WatchRecord): Promise<void> {
    return record.reasons.length === 0 ? this.#delete('watch', record.identity) : this.#put('watch', record);
  }
  getSecret(name: string): Promise<Uint8Array | undefined> {
    return this.#get<Uint8Array>('secrets', name);
  }
  putSecret(name: string, value: Uint8Array): Promise<void> {
    return this.#put('secrets', value, name);
  }
  getSetting<T>(name: string): Promise<T | undefined> {
    return this.#get<T>('settings', name);
  }
  putSetting(name: string, value: unknown): Promise<void> {
    return this.#put('settings', value, name);
  }
  inbox(): Promise<InboxItem[]> {
    return request(this.#read('inbox').objectStore('inbox').getAll()) as Promise<InboxItem[]>;
  }
  putInbox(item: InboxItem): Promise<void> {
    return this.#put('inbox', item);
  }
  async clear(): Promise<void> {
    const tx = this.#write([...STORES]);
    for (const s of STORES) tx.objectStore(s).clear();
    await finished(tx);
  }
  close(): void {
    this.db.close();
  }

  async #delete(name: StoreName, key: IDBValidKey): Promise<void> {
    const tx = this.#write(name);
    tx.objectStore(name).delete(key);
    await finished(tx);
  }
}
