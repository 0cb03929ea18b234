/**
 * One logical room is several Durable Objects, its shards (docs/room.md §9).
 * Each identity has a home shard computed from the identity alone, so the
 * Worker routes a socket without a lookup and a shard reaches any identity's
 * home directly. Shards talk by Durable Object RPC: one ordered channel per
 * pair of shards carries subscriptions, presence deliveries and relayed
 * messages in batches, with at most one call in flight; what queues
 * meanwhile goes in the next call.
 */
import { decodeIdentity, type Hash, type Identity } from '../../protocol/index.ts';
import type { Change } from './interest.ts';
import type { Revocation } from './revocations.ts';
import type { HeadEntry, PutResult, TrackedHead } from './storage.ts';

/** The home shard of `identity` among `count`: the big-endian u32 of its key's first 4 bytes, mod count. */
export function shardOf(identity: Identity, count: number): number {
  const key = decodeIdentity(identity);
  if (!key.ok) throw new Error(`not an identity: ${identity}`);
  const k = key.value;
  return (((k[0]! << 24) | (k[1]! << 16) | (k[2]! << 8) | k[3]!) >>> 0) % count;
}

/** The Durable Object name of shard `shard` of room `room` (room names have no "/"). */
export const shardName = (room: string, shard: number): string => `${room}/${shard}`;

/** Room name and shard from a shard's object name. */
export function parseShardName(name: string): { room: string; shard: number } | null {
  const slash = name.lastIndexOf('/');
  const shard = Number(name.slice(slash + 1));
  if (slash < 1 || !Number.isInteger(shard) || shard < 0) return null;
  return { room: name.slice(0, slash), shard };
}

/** What one shard asks of another over the ordered channel. */
export type Op =
  /** A socket of `watcher` (homed at the caller) watches `identity` (homed here): answers its state for the watcher. */
  | { op: 'subscribe'; watcher: Identity; identity: Identity }
  /** No socket of `watcher` watches `identity` any more. */
  | { op: 'unsubscribe'; watcher: Identity; identity: Identity }
  /** A change for `watcher` (homed here): answers whether a socket of it is here. */
  | { op: 'deliver'; watcher: Identity; change: Change }
  /** `device` (homed at the caller) claims the synod `synod` (homed here). */
  | { op: 'member'; synod: Identity; device: Identity }
  /** message_to `to` (homed here): answers what became of it. */
  | { op: 'relay'; from: Identity; to: Identity; payload: unknown };

/**
 * What became of a `message_to`: delivered to this many sockets (at least one); refused because `to` is here but
 * does not take messages from the sender; or `to` has no socket here. The
 * sender is told the last two in the same words (signalling.ts); only a
 * call push tells them apart (absent callees are woken, refusing ones not).
 */
export type Delivery = number | 'refused' | 'absent';

export type OpResult = Change | boolean | Delivery | null;

/** The Room's RPC methods (room.ts), as other shards call them. */
export interface ShardRpc {
  exchange(ops: Op[]): Promise<OpResult[]>;
  headsOf(identities: Identity[]): Promise<TrackedHead[]>;
  putHead(hash: Hash, text: string): Promise<PutResult>;
  revoke(synod: Identity, device: Identity, cut: number): Promise<void>;
  revocationsOf(devices: Identity[]): Promise<Revocation[]>;
  entriesOf(hashes: Hash[]): Promise<HeadEntry[]>;
  notifyDrop(notice: { hash: Hash; target: Identity; sender: Identity; size: number; expires: number }): Promise<Identity[]>;
  roomSeed(): Promise<string>;
}

interface Queued {
  op: Op;
  resolve: (result: OpResult) => void;
  reject: (err: unknown) => void;
}

/** The ordered channel to one other shard: ops go in order, in batches, one call in flight. */
export class Channel {
  #queue: Queued[] = [];
  #busy = false;
  #scheduled = false;
  /** Calls made, and ops carried (for the bench's events/s). */
  calls = 0;
  ops = 0;

  constructor(private readonly call: (ops: Op[]) => Promise<OpResult[]>) {}

  send(op: Op): Promise<OpResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      // After the current task, so ops queued together leave in one call.
      if (this.#scheduled) return;
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        void this.#pump();
      });
    });
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0);
        this.calls++;
        this.ops += batch.length;
        try {
          const results = await this.call(batch.map((q) => q.op));
          batch.forEach((q, i) => q.resolve(results[i] ?? null));
        } catch (err) {
          for (const q of batch) q.reject(err);
        }
      }
    } finally {
      this.#busy = false;
    }
  }
}

/** The shards of one room as seen from one of them. */
export class Shards {
  readonly #channels = new Map<number, Channel>();

  constructor(
    readonly room: string,
    readonly self: number,
    readonly count: number,
    private readonly stubOf: (shard: number) => ShardRpc,
  ) {}

  home(identity: Identity): number {
    return shardOf(identity, this.count);
  }

  isLocal(identity: Identity): boolean {
    return this.home(identity) === this.self;
  }

  stub(shard: number): ShardRpc {
    if (shard === this.self) throw new Error('a shard does not call itself');
    return this.stubOf(shard);
  }

  /** Every shard but this one. */
  others(): number[] {
    return Array.from({ length: this.count }, (_, i) => i).filter((i) => i !== this.self);
  }

  channel(shard: number): Channel {
    let channel = this.#channels.get(shard);
    if (!channel) {
      // A fresh stub per call: a stub that failed once may stay broken (Cloudflare's advice is to make a new one).
      this.#channels.set(shard, (channel = new Channel((ops) => this.stub(shard).exchange(ops))));
    }
    return channel;
  }

  /** RPC calls made to other shards, and the ops they carried. */
  traffic(): { calls: number; ops: number } {
    let calls = 0;
    let ops = 0;
    for (const c of this.#channels.values()) {
      calls += c.calls;
      ops += c.ops;
    }
    return { calls, ops };
  }
}
