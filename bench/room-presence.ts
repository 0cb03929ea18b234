/**
 * Presence at scale, against the local Worker: a burst of joins, a
 * reconnect storm, and the capacity model's load at 1/100 (docs/capacity.md).
 * Every wait has a deadline, so each scenario ends.
 */
import { generateKeyPair, type Identity, type KeyPair } from '../src/protocol/index.ts';
import { connectEffigy, LEGACY, shardStats, type BenchClient, type ShardStats } from './room-effigy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BATCH = 25;

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function keysFor(n: number): Promise<KeyPair[]> {
  return Promise.all(Array.from({ length: n }, () => generateKeyPair()));
}

/** Who watches whom: everyone everyone, or each `follows` others picked at random (seeded by index). */
export function pattern(keys: readonly KeyPair[], follows: number | 'all'): Identity[][] {
  const ids = keys.map((k) => k.identity);
  if (follows === 'all' || follows >= ids.length - 1) return ids.map((me) => ids.filter((i) => i !== me));
  return ids.map((_, i) => {
    const picked = new Set<number>();
    // xorshift32, seeded by the index: the same pattern every run.
    let x = (i + 1) * 2654435761 || 1;
    while (picked.size < follows) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const j = (x >>> 0) % ids.length;
      if (j !== i) picked.add(j);
    }
    return [...picked].map((j) => ids[j]!);
  });
}

/** What client i should see once everyone is in: whom it watches (legacy: everyone else). */
function expected(keys: readonly KeyPair[], watch: readonly Identity[][], i: number): Set<Identity> {
  return LEGACY ? new Set(keys.map((k) => k.identity).filter((_, j) => j !== i)) : new Set(watch[i]);
}

const settled = (clients: readonly BenchClient[], want: readonly Set<Identity>[]) =>
  clients.every((c, i) => c.present.size === want[i]!.size && [...want[i]!].every((x) => c.present.has(x)));

async function connectAll(base: string, room: string, keys: readonly KeyPair[], watch: readonly Identity[][], batch = BATCH) {
  const clients: BenchClient[] = [];
  for (let i = 0; i < keys.length; i += batch) {
    const part = keys.slice(i, i + batch);
    const made = await Promise.all(part.map((k) => connectEffigy(base, room, k)));
    made.forEach((c, j) => c.tell(watch[i + j]!));
    clients.push(...made);
  }
  return clients;
}

export interface BurstResult {
  joinMs: number;
  settleMs: number;
  framesPerJoin: number;
  /** SQLite bytes of all shards with everyone in, less an empty room's, per member (NaN in legacy). */
  bytesPerMember: number;
}

/** N clients join in batches; every presence frame any of them receives, until all see what they watch, ÷ N. */
export async function burst(base: string, room: string, n: number, follows: number | 'all'): Promise<BurstResult> {
  const keys = await keysFor(n);
  const watch = pattern(keys, follows);
  const want = keys.map((_, i) => expected(keys, watch, i));
  const empty = await shardStats(base, room);
  const t0 = performance.now();
  const clients = await connectAll(base, room, keys, watch);
  const joinMs = performance.now() - t0;
  await until('presence to settle after the burst', () => settled(clients, want), 180_000);
  const settleMs = performance.now() - t0;
  // Anything still in flight lands now, and counts.
  await sleep(1500);
  const frames = clients.reduce((s, c) => s + c.presenceFrames, 0);
  const full = await shardStats(base, room);
  const bytes = (stats: typeof full) => stats?.reduce((s, x) => s + x.bytes, 0) ?? NaN;
  for (const c of clients) c.close();
  await sleep(1000);
  return { joinMs, settleMs, framesPerJoin: frames / n, bytesPerMember: (bytes(full) - bytes(empty)) / n };
}

export interface StormResult {
  n: number;
  settleMs: number;
  presenceFrames: number;
  framesPerClient: number;
  allFrames: number;
  /** Frames and RPC calls the busiest shard handled during the storm (legacy: the one object's frames). */
  busiestEvents: number;
  /** Connection attempts that failed (a slow handshake closed with 4002) and were retried. */
  retries: number;
}

/**
 * Reconnects as the peer does (room-client.ts, partysocket): after 250–750 ms
 * at random, then with growing jittered backoff while the room refuses or
 * times it out (a busy room closes slow handshakes with 4002).
 */
async function reconnect(base: string, room: string, keys: KeyPair): Promise<{ client: BenchClient; attempts: number }> {
  await sleep(250 + Math.random() * 500);
  let backoff = 500;
  for (let attempts = 1; ; attempts++) {
    try {
      return { client: await connectEffigy(base, room, keys), attempts };
    } catch (err) {
      if (attempts >= 30) throw err;
      await sleep(backoff * (1 + Math.random()));
      backoff = Math.min(10_000, backoff * 1.5);
    }
  }
}

/** N clients in the room, settled; all drop at once and come back; time and frames until presence is right everywhere. */
export async function storm(base: string, room: string, n: number, follows: number | 'all'): Promise<StormResult> {
  const keys = await keysFor(n);
  const watch = pattern(keys, follows);
  const want = keys.map((_, i) => expected(keys, watch, i));
  let clients = await connectAll(base, room, keys, watch, 50);
  await until('presence to settle before the storm', () => settled(clients, want), 300_000);
  const before = await shardStats(base, room);
  for (const c of clients) c.close();
  const t0 = performance.now();
  let retries = 0;
  clients = await Promise.all(
    keys.map(async (k, i) => {
      const { client, attempts } = await reconnect(base, room, k);
      retries += attempts - 1;
      client.tell(watch[i]!);
      return client;
    }),
  );
  await until('presence to settle after the storm', () => settled(clients, want), 300_000);
  const settleMs = performance.now() - t0;
  await sleep(1500);
  const after = await shardStats(base, room);
  const presenceFrames = clients.reduce((s, c) => s + c.presenceFrames, 0);
  const allFrames = clients.reduce((s, c) => s + c.frames, 0);
  const busiestEvents =
    before && after
      ? Math.max(...after.map((s, i) => s.frames + s.rpc - before[i]!.frames - before[i]!.rpc))
      : clients.reduce((s, c) => s + c.sent, 0);
  for (const c of clients) c.close();
  await sleep(1000);
  return { n, settleMs, presenceFrames, framesPerClient: presenceFrames / n, allFrames, busiestEvents, retries };
}

export interface LoadResult {
  shards: number;
  busiestPerSecond: number;
  allPerSecond: number;
  socketsBusiest: number;
  /** RPC calls between shards per second, all objects (each is a billed request), and the ops each carried. */
  rpcPerSecond: number;
  opsPerCall: number;
  delivered: number;
  sent: number;
}

/**
 * The capacity model at 1/100: `n` members who all watch each other, each
 * sending a message_to to someone it watches every `everyMs`, for `seconds`.
 * Events are frames plus RPC calls each shard handled (legacy: frames the one object got).
 */
export async function load(base: string, room: string, n: number, everyMs: number, seconds: number): Promise<LoadResult> {
  const keys = await keysFor(n);
  const watch = pattern(keys, 'all');
  const want = keys.map((_, i) => expected(keys, watch, i));
  const clients = await connectAll(base, room, keys, watch);
  await until('presence to settle before the load', () => settled(clients, want), 120_000);
  await sleep(1000);
  let delivered = 0;
  for (const c of clients) c.onMessage = () => void delivered++;
  const meter = await ShardMeter.start(base, room);
  const sentBefore = clients.reduce((s, c) => s + c.sent, 0);
  const t0 = performance.now();
  const timers = clients.map((c, i) => {
    // Spread over the interval, as independent clients would be.
    const send = () => c.send(watch[i]![Math.floor(Math.random() * watch[i]!.length)]!, { t: Date.now() });
    // The first message at the random start, then one every `everyMs`: the rate is the model's from the first interval on.
    const start = setTimeout(() => {
      send();
      timers[i] = setInterval(send, everyMs);
    }, Math.random() * everyMs);
    return start as ReturnType<typeof setInterval>;
  });
  await sleep(seconds * 1000);
  for (const t of timers) clearInterval(t);
  const elapsed = (performance.now() - t0) / 1000;
  await sleep(1000);
  const counted = meter ? await meter.stop() : null;
  const sent = clients.reduce((s, c) => s + c.sent, 0) - sentBefore;
  for (const c of clients) c.close();
  await sleep(1000);
  if (!counted)
    return {
      shards: 1,
      busiestPerSecond: sent / elapsed,
      allPerSecond: sent / elapsed,
      socketsBusiest: n,
      rpcPerSecond: 0,
      opsPerCall: NaN,
      delivered,
      sent,
    };
  const events = counted.map((s) => s.frames + s.rpc);
  const busiest = events.indexOf(Math.max(...events));
  const total = (f: (s: Counted) => number) => counted.reduce((sum, s) => sum + f(s), 0);
  return {
    shards: counted.length,
    busiestPerSecond: events[busiest]! / elapsed,
    allPerSecond: events.reduce((a, b) => a + b, 0) / elapsed,
    socketsBusiest: counted[busiest]!.sockets,
    rpcPerSecond: total((s) => s.rpcOut) / elapsed,
    opsPerCall:
      total((s) => s.opsOut) /
      Math.max(
        1,
        total((s) => s.rpcOut),
      ),
    delivered,
    sent,
  };
}

type Counted = Pick<ShardStats, 'sockets' | 'frames' | 'rpc' | 'rpcOut' | 'opsOut'>;
const COUNTERS = ['frames', 'rpc', 'rpcOut', 'opsOut'] as const;

/**
 * Adds up each shard's counters while a load runs, sampled every 500 ms. The
 * counters live in the object's memory, and an object that wakes from
 * hibernation (or is evicted) starts them at zero: a counter that went down
 * restarted, and what it shows is new since then.
 */
class ShardMeter {
  #last: ShardStats[];
  #sum: Counted[];
  #timer: ReturnType<typeof setInterval>;
  #resets = 0;
  #queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly base: string,
    readonly room: string,
    first: ShardStats[],
  ) {
    this.#last = first;
    this.#sum = first.map((s) => ({ sockets: s.sockets, frames: 0, rpc: 0, rpcOut: 0, opsOut: 0 }));
    // One sample at a time, in order: each compares with the one before.
    this.#timer = setInterval(() => void (this.#queue = this.#queue.then(() => this.#sample())), 500);
  }

  static async start(base: string, room: string): Promise<ShardMeter | null> {
    const first = await shardStats(base, room);
    return first ? new ShardMeter(base, room, first) : null;
  }

  async #sample(): Promise<void> {
    const now = await shardStats(this.base, this.room);
    if (!now) return;
    now.forEach((s, i) => {
      const last = this.#last[i]!;
      if (COUNTERS.some((k) => s[k] < last[k])) this.#resets++;
      for (const k of COUNTERS) this.#sum[i]![k] += s[k] >= last[k] ? s[k] - last[k] : s[k];
    });
    this.#last = now;
  }

  async stop(): Promise<Counted[]> {
    clearInterval(this.#timer);
    await (this.#queue = this.#queue.then(() => this.#sample()));
    if (this.#resets > 0) process.stderr.write(`[room bench] load: ${this.#resets} shard counter restart(s) seen and counted across\n`);
    return this.#sum;
  }
}
