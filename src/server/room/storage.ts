/**
 * What room services read beyond a message: the heads this room tracks
 * (headtracking.ts keeps each in the SQLite storage of its identity's home
 * shard, and reaches the other shards by RPC) and the hosted
 * storage every room of a deployment shares (D1 and R2, src/server/hosted/).
 * The room hands both to its services through RoomApi; room modules never
 * import the hosted side, so the arrows point one way (room.ts wires them).
 */
import type { Hash, HeadRank, Identity, WireOf } from '../../protocol/index.ts';

/** The newest verified head the room holds for an identity. */
export interface TrackedHead {
  identity: Identity;
  hash: Hash;
  comparable: number;
  /** The synod its entry claims, or null. */
  synod: Identity | null;
  size: number;
}

/** A tracked head entry, by its hash. */
export interface HeadEntry {
  hash: Hash;
  size: number;
  text: string;
}

/** What storing an announced head did, at its identity's home shard. */
export type PutResult = { status: 'stored'; subscribers: Identity[] } | { status: 'same' } | { status: 'rollback'; stored: TrackedHead };

/** The heads of the whole room, each kept at its identity's home shard. */
export interface TrackedHeads {
  get(identity: Identity): Promise<TrackedHead | undefined>;
  many(identities: readonly Identity[]): Promise<Map<Identity, TrackedHead>>;
  /** Head entries by hash, from any shard. */
  entries(hashes: readonly Hash[]): Promise<Map<Hash, HeadEntry>>;
  /** Compare-and-store a verified entry at its identity's home; `stored` names who subscribes to that identity. */
  put(entry: HeadEntry): Promise<PutResult>;
}

/** A blob as the room can send it over a socket. */
export interface StoredBlob {
  readonly size: number;
  /** Set when it is not sent over a room socket, saying why and where to get it instead. */
  readonly refusal?: string;
  /** Its bytes, in pieces of any size; null when it went away meanwhile. */
  read(): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array> | null>;
}

export type FeedRun =
  | { status: 'ok'; entries: string[] }
  /** No live lease of the identity. */
  | { status: 'no_lease' }
  /** `from` is not in the leased feed. */
  | { status: 'not_held' };

/**
 * What hosted calls cost in D1, which every room of a deployment shares: a
 * call adds its round trips (`queries`: each is one D1 request, one batch
 * or one statement) and the rows D1 read for it (`rows`: D1's rows_read).
 * A caller that passes one per request can weight the request by its work.
 * Every method below is one round trip, whatever the number of items.
 */
export interface HostedCost {
  queries: number;
  rows: number;
}

export interface HostedStorage {
  /** Sizes of the hashes held as entries of live leases or as stored blobs. */
  sizes(hashes: readonly Hash[], cost?: HostedCost): Promise<Map<Hash, number>>;
  /** An entry of a live lease or a stored blob. */
  blob(hash: Hash, cost?: HostedCost): Promise<StoredBlob | null>;
  /** Heads of live leases among `identities`. */
  leasedHeads(identities: readonly Identity[], cost?: HostedCost): Promise<Map<Identity, HeadRank>>;
  /** A run of a leased feed for get_feed: from `from` through parents, stopping before `known`, at a root, or at `limit`. */
  leasedFeed(request: Omit<WireOf<'get_feed'>, 'type' | 'id' | 're'>, cost?: HostedCost): Promise<FeedRun>;
}
