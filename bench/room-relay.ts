/**
 * N clients in one room, Effigy and PeerJS's server driven the same way:
 * join, presence of a newcomer at every client, message_to round trips,
 * relayed messages per second (the tables are in room.bench.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Identity, KeyPair } from '../src/protocol/index.ts';
import { ROOM_LIMITS } from '../src/server/room/limits.ts';
import { freePort } from '../test/support/local-worker.ts';
import { connectEffigy, type BenchClient } from './room-effigy.ts';
import { percentile } from './table.ts';

const BATCH = 25;
export const RTT_SAMPLES = 200;
export const RELAY_TOTAL = 2000;
export const NEWCOMERS = 5;
const DEADLINE_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `count()` reaches `target`; rejects after the deadline. */
async function until(what: string, check: () => boolean, ms = DEADLINE_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(1);
  }
}

export async function inBatches<T>(n: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += BATCH) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, (_, j) => make(i + j)))));
  }
  return out;
}

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
}

/** One driver per server: the same four measurements, spoken in its protocol. */
interface Peer {
  id: string;
  /** Sends `payload` to peer `to`. */
  send(to: string, payload: unknown): void;
  /** Every relayed message to this client: sender and payload. */
  onMessage: (from: string, payload: any) => void;
  close(): void;
}

export interface Driver {
  name: string;
  /** Connects one client and resolves when it is ready to relay. */
  connect(room: string): Promise<Peer>;
  /**
   * Connects one more client; resolves with the time from its "ready to be
   * announced" moment to all `others` hearing about it, and the newcomer.
   */
  announce(room: string, others: Peer[]): Promise<{ ms: number; peer: Peer }>;
}

// ---- Effigy ----

export function effigyDriver(base: string, newcomers: KeyPair[]): Driver {
  const watching = newcomers.map((k) => k.identity);
  let next = 0;
  const wrap = (c: BenchClient): Peer => {
    const peer: Peer = {
      id: c.identity,
      send: (to, payload) => c.send(to as Identity, payload),
      onMessage: () => {},
      close: () => c.close(),
    };
    c.onMessage = (from, payload) => peer.onMessage(from, payload);
    return peer;
  };
  const clients: BenchClient[] = [];
  return {
    name: 'Effigy',
    async connect(room) {
      const c = await connectEffigy(base, room);
      // Everyone lets anyone see and message it, and watches the newcomers the online metric brings in.
      c.tell(watching);
      clients.push(c);
      return wrap(c);
    },
    async announce(room, others) {
      const keys = newcomers[next++]!;
      let t0 = 0;
      const c = await connectEffigy(base, room, keys, () => (t0 = performance.now()));
      c.tell([]);
      const watchers = clients.slice(0, others.length);
      await until('presence at every watcher', () => watchers.every((w) => w.present.has(keys.identity)));
      return { ms: performance.now() - t0, peer: wrap(c) };
    },
  };
}

// ---- PeerJS ----

export async function startPeerServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const script = `import { PeerServer } from "peer";
PeerServer({ port: ${port}, host: "127.0.0.1", path: "/", key: "peerjs", concurrent_limit: 100000, alive_timeout: 3600000 }, () => console.log("ready"));`;
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('PeerJS server did not start')), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`PeerJS server exited (${code})`)));
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function peerjsDriver(port: number): Driver {
  let n = 0;
  let helloHook: ((seenBy: Peer) => void) | undefined;
  const connect = async (room: string): Promise<Peer> => {
    const id = `${room}-${n++}`;
    const ws = await openSocket(`ws://127.0.0.1:${port}/peerjs?key=peerjs&id=${id}&token=t${n}`);
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const peer: Peer = {
      id,
      send: (dst, payload) => ws.send(JSON.stringify({ type: 'OFFER', dst, payload })),
      onMessage: () => {},
      close: () => ws.close(),
    };
    ws.addEventListener('message', (event) => {
      const msg = JSON.parse(event.data as string) as { type: string; src?: string; payload?: any };
      if (msg.type === 'OPEN') opened();
      else if (msg.type === 'OFFER') {
        if (msg.payload?.hello) helloHook?.(peer);
        else peer.onMessage(msg.src!, msg.payload);
      } else if (msg.type === 'ERROR' || msg.type === 'ID-TAKEN') console.error(`peerjs: ${JSON.stringify(msg)}`);
    });
    await open;
    return peer;
  };
  return {
    name: 'PeerJS',
    connect,
    async announce(room, others) {
      const seen = new Set<Peer>();
      helloHook = (by) => seen.add(by);
      const peer = await connect(room);
      const t0 = performance.now();
      for (const other of others) peer.send(other.id, { hello: true });
      await until('hello at every client', () => seen.size >= others.length);
      const ms = performance.now() - t0;
      helloHook = undefined;
      return { ms, peer };
    },
  };
}

// ---- the load ----

export interface Result {
  joinMs: number;
  onlineMs: number;
  rttP50: number;
  rttP99: number;
  relayRate: number;
}

export async function measure(driver: Driver, room: string, n: number): Promise<Result> {
  const t0 = performance.now();
  const peers = await inBatches(n, () => driver.connect(room));
  const joinMs = performance.now() - t0;
  await sleep(500);

  // online → all N, median of a few newcomers (each leaves again).
  const onlines: number[] = [];
  for (let i = 0; i < NEWCOMERS; i++) {
    const { ms, peer } = await driver.announce(room, peers);
    onlines.push(ms);
    peer.close();
    await sleep(300);
  }
  onlines.sort((a, b) => a - b);
  // Let every socket's token bucket refill before the next phase.
  await sleep(2000);

  // RTT, one in flight, cycling over pairs.
  const pairs = Math.floor(n / 2);
  for (let p = 0; p < pairs; p++) {
    const b = peers[2 * p + 1]!;
    b.onMessage = (from, payload) => b.send(from, payload);
  }
  const rtts: number[] = [];
  for (let i = 0; i < RTT_SAMPLES; i++) {
    const p = i % pairs;
    const a = peers[2 * p]!;
    const b = peers[2 * p + 1]!;
    const t = performance.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bench: round trip timed out')), 10_000);
      a.onMessage = () => {
        clearTimeout(timer);
        resolve();
      };
      a.send(b.id, { seq: i });
    });
    rtts.push(performance.now() - t);
  }
  rtts.sort((x, y) => x - y);
  await sleep(2000);

  // Throughput: everyone sends K to its neighbour, all in flight.
  const k = Math.max(1, Math.min(ROOM_LIMITS.rateBurst - 10, Math.ceil(RELAY_TOTAL / n)));
  const total = k * n;
  let received = 0;
  for (const peer of peers) peer.onMessage = () => void received++;
  const t1 = performance.now();
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) peers[i]!.send(peers[(i + 1) % n]!.id, { j });
  }
  await until(`${total} relayed messages`, () => received >= total, 2 * DEADLINE_MS);
  const relayRate = (total * 1000) / (performance.now() - t1);

  for (const peer of peers) peer.close();
  await sleep(1000);
  return {
    joinMs,
    onlineMs: onlines[Math.floor(onlines.length / 2)]!,
    rttP50: percentile(rtts, 50),
    rttP99: percentile(rtts, 99),
    relayRate,
  };
}
