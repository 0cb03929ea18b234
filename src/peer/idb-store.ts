/**
 * The IndexedDB Store, through `idb` (promises over IndexedDB's events).
 * Browsers may evict it; `open` asks for persistent storage, and the engine
 * re-syncs from peers and leases whatever is lost.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Entry, Hash, Identity } from '../protocol/index.ts';
import { trustedEntry, type InboxItem, type StoredHead, type Store, type WatchRecord } from './store.ts';

interface EffigyDB extends DBSchema {
  entries: {
    key: string;
    value: { hash: string; text: string; identity: string; comparable: number };
    indexes: { byIdentity: [string, number] };
  };
  heads: { key: string; value: StoredHead };
  blobs: { key: string; value: { hash: string; size: number; bytes: Uint8Array } };
  watch: { key: string; value: WatchRecord };
  secrets: { key: string; value: Uint8Array };
  settings: { key: string; value: unknown };
  inbox: { key: string; value: InboxItem };
}

const STORES = ['entries', 'heads', 'blobs', 'watch', 'secrets', 'settings', 'inbox'] as const;

export class IdbStore implements Store {
  private constructor(private readonly db: IDBPDatabase<EffigyDB>) {}

  /** `persisted` says whether the browser agreed to keep the data (false where it may evict). */
  static async open(name = 'effigy', options: { requestPersistence?: boolean } = {}): Promise<{ store: IdbStore; persisted: boolean }> {
    const db = await openDB<EffigyDB>(name, 1, {
      upgrade(db) {
        db.createObjectStore('entries', { keyPath: 'hash' }).createIndex('byIdentity', ['identity', 'comparable']);
        db.createObjectStore('heads', { keyPath: 'identity' });
        db.createObjectStore('blobs', { keyPath: 'hash' });
        db.createObjectStore('watch', { keyPath: 'identity' });
        db.createObjectStore('secrets');
        db.createObjectStore('settings');
        db.createObjectStore('inbox', { keyPath: 'hash' });
      },
    });
    let persisted = false;
    const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
    if (options.requestPersistence && storage?.persist) persisted = await storage.persist().catch(() => false);
    return { store: new IdbStore(db), persisted };
  }

  async putEntry(entry: Entry): Promise<void> {
    await this.db.put('entries', { hash: entry.hash, text: entry.text, identity: entry.body.identity, comparable: entry.body.comparable });
  }
  async getEntry(hash: Hash): Promise<Entry | undefined> {
    const row = await this.db.get('entries', hash);
    return row ? trustedEntry(hash, row.text) : undefined;
  }
  async hasEntry(hash: Hash): Promise<boolean> {
    return (await this.db.getKey('entries', hash)) !== undefined;
  }
  async entriesOf(identity: Identity, limit = Infinity): Promise<Entry[]> {
    const out: Entry[] = [];
    const range = IDBKeyRange.bound([identity, 0], [identity, Number.MAX_SAFE_INTEGER]);
    let cursor = await this.db.transaction('entries').store.index('byIdentity').openCursor(range, 'prev');
    while (cursor && out.length < limit) {
      out.push(trustedEntry(cursor.value.hash as Hash, cursor.value.text));
      cursor = await cursor.continue();
    }
    return out;
  }
  async getHead(identity: Identity) {
    return this.db.get('heads', identity);
  }
  async setHead(head: StoredHead) {
    await this.db.put('heads', head);
  }
  async heads() {
    return this.db.getAll('heads');
  }
  async putBlob(hash: Hash, bytes: Uint8Array) {
    await this.db.put('blobs', { hash, size: bytes.length, bytes });
  }
  async getBlob(hash: Hash) {
    return (await this.db.get('blobs', hash))?.bytes;
  }
  async blobSize(hash: Hash) {
    return (await this.db.get('blobs', hash))?.size;
  }
  async watchList() {
    return this.db.getAll('watch');
  }
  async setWatch(record: WatchRecord) {
    if (record.reasons.length === 0) await this.db.delete('watch', record.identity);
    else await this.db.put('watch', record);
  }
  async getSecret(name: string) {
    return this.db.get('secrets', name);
  }
  async putSecret(name: string, value: Uint8Array) {
    await this.db.put('secrets', value, name);
  }
  async getSetting<T>(name: string) {
    return (await this.db.get('settings', name)) as T | undefined;
  }
  async putSetting(name: string, value: unknown) {
    await this.db.put('settings', value, name);
  }
  async inbox() {
    return this.db.getAll('inbox');
  }
  async putInbox(item: InboxItem) {
    await this.db.put('inbox', item);
  }
  async clear() {
    const tx = this.db.transaction(STORES, 'readwrite');
    await Promise.all([...STORES.map((s) => tx.objectStore(s).clear()), tx.done]);
  }
  close(): void {
    this.db.close();
  }
}
