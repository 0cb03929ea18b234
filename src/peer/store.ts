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

/** A head as it changed: with its position in the change log of heads (docs/protocol.md §13.7). */
export interface LoggedHead extends StoredHead {
  readonly seq: number;
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

/**
 * What this peer remembers of another between connections (docs/protocol.md
 * §13.7), kept only for identities it watches: the interest list each side
 * registered with the other, and how far along the other's change log of
 * heads this side has been brought.
 */
export interface PeerNote {
  readonly peer: Identity;
  /** When the note was last written (ms): the oldest notes go first. */
  readonly at: number;
  /** Their interest list as they registered it with us (we answer their get_changes). */
  readonly theirs: readonly Identity[];
  /** Our interest list as we registered it with them; null when nothing is registered. */
  readonly ours: readonly Identity[] | null;
  /** Their change log (epoch) and the position in it up to which we hold their changes. */
  readonly epoch: string | null;
  readonly seq: number;
  /** They keep no notes (a room, or an older peer): ask them with get_heads. */
  readonly plain: boolean;
}

/** The heads set after a point of the change log, and where the log stands. */
export interface HeadLog {
  readonly heads: StoredHead[];
  readonly seq: number;
}

/** Options of a walk down a feed's parents. */
export interface ChainWalk {
  /** At most this many entries. */
  readonly limit: number;
  /** Stop before this entry (one the asker holds). */
  readonly stop?: Hash | null;
  /** Only entries of this identity: stop at the first of another. */
  readonly identity?: Identity;
  /** Called before each entry is added; false stops the walk before it (a frame is full). */
  readonly fits?: (entry: Entry) => boolean;
}

export interface Store {
  putEntry(entry: Entry): Promise<void>;
  /** Several entries in one write; storing an entry again changes nothing. */
  putEntries(entries: readonly Entry[]): Promise<void>;
  getEntry(hash: Hash): Promise<Entry | undefined>;
  hasEntry(hash: Hash): Promise<boolean>;
  /** Newest first (by comparable), at most `limit`. */
  entriesOf(identity: Identity, limit?: number): Promise<Entry[]>;
  /** `from`, then its parent, and so on, in one read: stops at a root, a missing parent, or as `walk` says. */
  chain(from: Hash, walk: ChainWalk): Promise<Entry[]>;
  /** The newest entries across these heads' chains (orphans left out), newest first, in one read. */
  newest(heads: readonly StoredHead[], limit: number): Promise<Entry[]>;

  getHead(identity: Identity): Promise<StoredHead | undefined>;
  /** Sets a head and logs the change: answers the change's position in the log. */
  setHead(head: StoredHead): Promise<number>;
  heads(): Promise<StoredHead[]>;
  /** Heads set after position `since` of the change log (heads stored before the log began are never listed). */
  headLog(since: number): Promise<HeadLog>;

  getNote(peer: Identity): Promise<PeerNote | undefined>;
  /** Keeps the note, dropping the oldest beyond a bound. */
  putNote(note: PeerNote): Promise<void>;
  deleteNote(peer: Identity): Promise<void>;

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

/** Notes kept at most (the least recently written go first): a bound on what peers can make us keep. */
export const MAX_NOTES = 256;

/** Entries read back from a store were validated when stored: rebuilt without verifying again. */
export { trustedEntry } from '../protocol/index.ts';
