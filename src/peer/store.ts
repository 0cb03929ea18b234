/**
 * The engine's storage, behind one interface with two homes: memory (tests,
 * headless peers) and IndexedDB (browsers). Everything stored was validated
 * on the way in, so reading back trusts it; storage may be wiped at any time
 * (browsers evict), and the engine re-syncs from peers and leases.
 */
import type { Entry, Hash, Identity } from '../protocol/index.ts';

export interface StoredHead {
  readonly identity: Identity;
  readonly hash: Hash;
  readonly comparable: number;
}

/**
 * Why an identity is replicated; an identity with no reasons is not watched.
 * `contact`: someone we look up or talk to without following (their account
 * feed only: profile and devices; nothing is widened from it).
 */
export type WatchReason = 'self' | 'synod' | 'device' | 'follow' | 'lease' | 'contact';

export interface WatchRecord {
  readonly identity: Identity;
  readonly reasons: readonly WatchReason[];
}

/** A dropbox message delivered to us, kept until the person reads and acknowledges it. */
export interface InboxItem {
  readonly hash: Hash;
  readonly sender: Identity;
  readonly target: Identity;
  readonly entry: string;
  readonly receivedAt: number;
  readonly server: string;
  acknowledged: boolean;
}

export interface Store {
  putEntry(entry: Entry): Promise<void>;
  getEntry(hash: Hash): Promise<Entry | undefined>;
  hasEntry(hash: Hash): Promise<boolean>;
  /** Newest first (by comparable), at most `limit`. */
  entriesOf(identity: Identity, limit?: number): Promise<Entry[]>;

  getHead(identity: Identity): Promise<StoredHead | undefined>;
  setHead(head: StoredHead): Promise<void>;
  heads(): Promise<StoredHead[]>;

  putBlob(hash: Hash, bytes: Uint8Array): Promise<void>;
  getBlob(hash: Hash): Promise<Uint8Array | undefined>;
  blobSize(hash: Hash): Promise<number | undefined>;

  watchList(): Promise<WatchRecord[]>;
  setWatch(record: WatchRecord): Promise<void>;

  getSecret(name: string): Promise<Uint8Array | undefined>;
  putSecret(name: string, value: Uint8Array): Promise<void>;
  getSetting<T>(name: string): Promise<T | undefined>;
  putSetting(name: string, value: unknown): Promise<void>;

  inbox(): Promise<InboxItem[]>;
  putInbox(item: InboxItem): Promise<void>;

  /** Forget everything (a wipe, or a test resetting). */
  clear(): Promise<void>;
}

/** Entries read back from a store were validated when stored: rebuilt without verifying again. */
export { trustedEntry } from '../protocol/index.ts';
