import type { WireErrorCode } from '../../protocol/index.ts';

/**
 * Every bound the room enforces, in one place (docs/room.md quotes them),
 * plus the two small counters that apply them per socket.
 */
export const ROOM_LIMITS = {
  // Socket budgets, the idle rule and the head TTL are operator settings (settings.ts).
  /** A socket that has not authenticated this long after opening is closed (4002). */
  authTimeoutMs: 5_000,
  /** Client challenges are remembered this long; a reused one is refused. */
  challengeMemoryMs: 10 * 60_000,
  /** Token bucket per socket: sustained frames per second... */
  ratePerSecond: 50,
  /** ...and the burst a quiet socket may spend at once. */
  rateBurst: 100,
  /** Frames dropped for the rate limit within `abuseWindowMs` before the socket is closed (4008). */
  maxDroppedFrames: 50,
  /** Protocol errors (bad frames, bad entries, ...) within `abuseWindowMs` before the socket is closed (1008). */
  maxErrors: 10,
  abuseWindowMs: 10_000,
  /** Items per presence_list frame and pairs per last_known_heads frame: far below 64 KiB a frame. */
  listChunk: 256,
  /** Identities on one socket's watch list (`quota` past it). */
  maxWatch: 4096,
  /** Identities on one identity's allow-list (`quota` past it). */
  maxAllow: 4096,
  /** Watch-list rows of all sockets of one shard (`unavailable` past it): bounds the shard's memory. */
  maxWatchRows: 400_000,
  /** Devices remembered per synod (the newest claims): watching a synod watches these. */
  maxMembers: 16,
  /** A watch or allow frame costs 1 + ⌊items / itemsPerToken⌋ tokens of the socket's bucket. */
  itemsPerToken: 64,
  /** Other lists (get_heads, iwant, fetch_drops, drop_ack) cost a token per this many items: each item is a row read. */
  rowsPerToken: 128,
  /** A message_to reaching several sockets of its target costs a token per this many bytes of the copies after the first. */
  bytesPerToken: 16 * 1024,
  /** Presence coalescing (coalescer.ts): the window while changes come one or two per socket... */
  presenceWindowMs: 100,
  /** ...a window that brought at least this many changes per waiting socket makes the next one... */
  presenceBusyChanges: 2,
  /** ...this many times longer... */
  presenceGrowth: 4,
  /** ...up to this (100 ms × 4⁴)... */
  presenceWindowMaxMs: 25_600,
  /** ...and a window ends early once no change has come for an eighth of it, or this long if more. */
  presenceQuietMs: 250,
  /** After a wake, allow-lists of identities with no socket are dropped this much later (watchers.ts). */
  sweepDelayMs: 1000,
  /** Shards of every room when the ROOM_SHARDS var is unset, and the most it may give one room. */
  defaultShards: 1,
  maxShards: 64,
} as const;

/**
 * Shards of room `room`, from the ROOM_SHARDS Worker var (wrangler.toml):
 * either one count for every room ("8"), or counts by room name with `*`
 * for the rest ("*=1,main=8": a server's default room is the hot one; a
 * small room pays no RPC between shards). Counts are 1 to maxShards; a bad
 * value is a deployment error, thrown.
 */
export function roomShards(env: { readonly ROOM_SHARDS?: string | undefined }, room: string): number {
  const text = env.ROOM_SHARDS ?? String(ROOM_LIMITS.defaultShards);
  const counts = new Map<string, string>();
  if (/^\s*\d+\s*$/.test(text)) counts.set('*', text.trim());
  else {
    for (const part of text.split(',')) {
      const [name, count, extra] = part.split('=').map((x) => x.trim());
      if (!name || count === undefined || extra !== undefined || !/^(\*|[A-Za-z0-9_-]{1,64})$/.test(name)) {
        throw new Error(
          `ROOM_SHARDS is a count, or name=count pairs separated by commas (* for every other room), not ${JSON.stringify(text)}`,
        );
      }
      counts.set(name, count);
    }
  }
  const value = counts.get(room) ?? counts.get('*') ?? '1';
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > ROOM_LIMITS.maxShards) {
    throw new Error(
      `ROOM_SHARDS must give each room 1 to ${ROOM_LIMITS.maxShards} shards, not ${JSON.stringify(value)} (${JSON.stringify(text)})`,
    );
  }
  return n;
}

/**
 * Error codes that count as a strike toward closing the socket (maxErrors in
 * abuseWindowMs, then close 1008): malformed or forbidden input. The others
 * describe an ordinary race or refusal.
 */
export const STRIKES: ReadonlySet<WireErrorCode> = new Set<WireErrorCode>([
  'bad_frame',
  'bad_json',
  'unknown_type',
  'bad_schema',
  'unauthenticated',
  'forbidden',
  'bad_entry',
]);

/**
 * Token bucket: `take` spends tokens (one a frame, more for heavy frames),
 * refilled continuously at `rate` per second up to `burst`. Frames are
 * measured when the room handles them, not when they arrived: when the room
 * runs `lagMs` behind, frames that arrived over that time are handled
 * together, so the bucket may then hold `lagMs` worth of refill more than
 * its burst (a backlog is not a burst).
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Spends `cost` tokens if there are that many. */
  take(now: number, cost = 1, lagMs = 0): boolean {
    this.#refill(now, lagMs);
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  /** Spends `cost` tokens for work already done (bytes sent): the bucket may go into debt, down to -burst. */
  charge(now: number, cost: number): void {
    this.#refill(now, 0);
    this.#tokens = Math.max(-this.burst, this.#tokens - cost);
  }

  #refill(now: number, lagMs: number): void {
    const cap = this.burst + (Math.max(0, lagMs) / 1000) * this.rate;
    this.#tokens = Math.min(Math.max(cap, this.#tokens), this.#tokens + (Math.max(0, now - this.#at) / 1000) * this.rate);
    this.#at = Math.max(this.#at, now);
  }
}

/**
 * How far behind the room is: a timer set when a frame is handled fires
 * only after the events queued before it, so its delay is the backlog. The
 * estimate is the largest recent delay, decaying by half a second a second.
 */
export class LagProbe {
  #lagMs = 0;
  #at = 0;
  #pending = false;

  lag(now: number): number {
    return Math.max(0, this.#lagMs - (now - this.#at) / 2);
  }

  /** Starts a measurement unless one is under way. */
  sample(now: number): void {
    if (this.#pending) return;
    this.#pending = true;
    setTimeout(() => {
      this.#pending = false;
      const at = Date.now();
      this.#lagMs = Math.max(at - now, this.lag(at));
      this.#at = at;
    }, 0);
  }
}

/**
 * Charges a socket for the D1 work a request caused, as the hosted side
 * reports it (HostedCost): every round trip after the first (which the
 * request's weight prepaid) and a token per rowsPerToken rows D1 read.
 */
export function chargeWork(conn: { readonly bucket: TokenBucket }, cost: { queries: number; rows: number }): void {
  const tokens = Math.max(0, cost.queries - 1) + Math.floor(cost.rows / ROOM_LIMITS.rowsPerToken);
  if (tokens > 0) conn.bucket.charge(Date.now(), tokens);
}

/** Counts events in a fixed window; `hit` answers how many so far in the current one. */
export class WindowCounter {
  #start = 0;
  #count = 0;

  constructor(readonly windowMs: number) {}

  hit(now: number): number {
    if (now - this.#start >= this.windowMs) {
      this.#start = now;
      this.#count = 0;
    }
    return ++this.#count;
  }
}
