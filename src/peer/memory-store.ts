/** The in-memory Store: for Node peers, tests and benchmarks. */
import { compareEntries, type Entry, type Hash, type Identity } from '../protocol/index.ts';
import {
  MAX_NOTES,
  type ChainWalk,
  type HeadLog,
  type InboxItem,
  type PeerNote,
  type StoredHead,
  type Store,
  type WatchRecord,
} from './store.ts';

export class MemoryStore implements Store {
  #entries = new Map<Hash, Entry>();
  #byIdentity = new Map<Identity, Set<Hash>>();
  #heads = new Map<Identity, StoredHead & { seq: number }>();
  #seq = 0;
  #blobs = new Map<Hash, Uint8Array>();
  #watch = new Map<Identity, WatchRecord>();
  #secrets = new Map<string, Uint8Array>();
  #settings = new Map<string, unknown>();
  #inbox = new Map<Hash, InboxItem>();
  #notes = new Map<Identity, PeerNote>();

  async putEntry(entry: Entry): Promise<void> {
    this.#entries.set(entry.hash, entry);
    let set = this.#byIdentity.get(entry.body.identity);
    if (!set) this.#byIdentity.set(entry.body.identity, (set = new Set()));
    set.add(entry.hash);
  }
  async putEntries(entries: readonly Entry[]): Promise<void> {
    for (const e of entries) await this.putEntry(e);
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
  async chain(from: Hash, walk: ChainWalk): Promise<Entry[]> {
    const out: Entry[] = [];
    let at = this.#entries.get(from);
    while (at && out.length < walk.limit && at.hash !== walk.stop) {
      if (walk.identity !== undefined && at.body.identity !== walk.identity) break;
      if (walk.fits && !walk.fits(at)) break;
      out.push(at);
      at = at.body.parent ? this.#entries.get(at.body.parent) : undefined;
    }
    return out;
  }
  async newest(heads: readonly StoredHead[], limit: number): Promise<Entry[]> {
    const all = await Promise.all(heads.map((h) => this.chain(h.hash, { limit, identity: h.identity })));
    return all.flat().sort(compareEntries).slice(0, limit);
  }
  async getHead(identity: Identity) {
    const head = this.#heads.get(identity);
    return head && { identity: head.identity, hash: head.hash, comparable: head.comparable };
  }
  async setHead(head: StoredHead) {
    this.#heads.set(head.identity, { identity: head.identity, hash: head.hash, comparable: head.comparable, seq: ++this.#seq });
    return this.#seq;
  }
  async heads() {
    return [...this.#heads.values()].map((h) => ({ identity: h.identity, hash: h.hash, comparable: h.comparable }));
  }
  async headLog(since: number): Promise<HeadLog> {
    const heads = [...this.#heads.values()]
      .filter((h) => h.seq > since)
      .sort((a, b) => a.seq - b.seq)
      .map((h) => ({ identity: h.identity, hash: h.hash, comparable: h.comparable }));
    return { heads, seq: this.#seq };
  }
  async getNote(peer: Identity) {
    const note = this.#notes.get(peer);
    return note && structuredClone(note);
  }
  async putNote(note: PeerNote) {
    this.#notes.set(note.peer, structuredClone(note));
    if (this.#notes.size <= MAX_NOTES) return;
    const oldest = [...this.#notes.values()].sort((a, b) => a.at - b.at)[0];
    if (oldest) this.#notes.delete(oldest.peer);
  }
  async deleteNote(peer: Identity) {
    this.#notes.delete(peer);
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
    for (const m of [
      this.#entries,
      this.#byIdentity,
      this.#heads,
      this.#blobs,
      this.#watch,
      this.#secrets,
      this.#settings,
      this.#inbox,
      this.#notes,
    ])
      m.clear();
    this.#seq = 0;
  }
}
