/** The in-memory Store: for Node peers, tests and benchmarks. */
import { compareEntries, type Entry, type Hash, type Identity } from '../protocol/index.ts';
import type { InboxItem, StoredHead, Store, WatchRecord } from './store.ts';

export class MemoryStore implements Store {
  #entries = new Map<Hash, Entry>();
  #byIdentity = new Map<Identity, Set<Hash>>();
  #heads = new Map<Identity, StoredHead>();
  #blobs = new Map<Hash, Uint8Array>();
  #watch = new Map<Identity, WatchRecord>();
  #secrets = new Map<string, Uint8Array>();
  #settings = new Map<string, unknown>();
  #inbox = new Map<Hash, InboxItem>();

  async putEntry(entry: Entry): Promise<void> {
    this.#entries.set(entry.hash, entry);
    let set = this.#byIdentity.get(entry.body.identity);
    if (!set) this.#byIdentity.set(entry.body.identity, (set = new Set()));
    set.add(entry.hash);
  }
  async getEntry(hash: Hash) {
    return this.#entries.get(hash);
  }
  async hasEntry(hash: Hash) {
    return this.#entries.has(hash);
  }
  async entriesOf(identity: Identity, limit = Infinity) {
    const hashes = this.#byIdentity.get(identity) ?? new Set();
    return [...hashes]
      .map((h) => this.#entries.get(h) as Entry)
      .sort(compareEntries)
      .slice(0, limit);
  }
  async getHead(identity: Identity) {
    return this.#heads.get(identity);
  }
  async setHead(head: StoredHead) {
    this.#heads.set(head.identity, head);
  }
  async heads() {
    return [...this.#heads.values()];
  }
  async putBlob(hash: Hash, bytes: Uint8Array) {
    this.#blobs.set(hash, bytes);
  }
  async getBlob(hash: Hash) {
    return this.#blobs.get(hash);
  }
  async blobSize(hash: Hash) {
    return this.#blobs.get(hash)?.length;
  }
  async watchList() {
    return [...this.#watch.values()];
  }
  async setWatch(record: WatchRecord) {
    if (record.reasons.length === 0) this.#watch.delete(record.identity);
    else this.#watch.set(record.identity, record);
  }
  async getSecret(name: string) {
    return this.#secrets.get(name);
  }
  async putSecret(name: string, value: Uint8Array) {
    this.#secrets.set(name, value.slice());
  }
  async getSetting<T>(name: string) {
    return this.#settings.get(name) as T | undefined;
  }
  async putSetting(name: string, value: unknown) {
    this.#settings.set(name, structuredClone(value));
  }
  async inbox() {
    return [...this.#inbox.values()];
  }
  async putInbox(item: InboxItem) {
    this.#inbox.set(item.hash, { ...item });
  }
  async clear() {
    for (const m of [this.#entries, this.#byIdentity, this.#heads, this.#blobs, this.#watch, this.#secrets, this.#settings, this.#inbox])
      m.clear();
  }
}
