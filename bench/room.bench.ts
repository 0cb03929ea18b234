/**
 * The room server against the local Worker (`wrangler dev --local`, what
 * `npm start` runs), with PeerJS's signalling server (`peer` from npm) on the
 * same machine as the baseline where it has an equivalent, driven by the same
 * Node process. Every measurement runs ROOM_BENCH_ROUNDS times (3) on a fresh
 * Worker; tables give the median and the range.
 *
 * - N clients in one room (N = 10, 100, 500): join (Effigy: WebSocket +
 *   Ed25519 session both ways + provides; PeerJS: WebSocket + OPEN, BATCH at a
 *   time); presence → all N watchers (a newcomer every client watches, from
 *   its session_auth until all N have it; PeerJS: the newcomer sends one
 *   message to each); message_to RTT p50/p99 (one round trip in flight,
 *   cycling over pairs); relayed msgs/s (every client sends K to its
 *   neighbour at once, K within the room's rate burst).
 * - Presence frames per join in a burst of 500 (room-presence.ts).
 * - A reconnect storm of ROOM_BENCH_STORM clients (2,000).
 * - Events/s at the busiest object at 1/100 of the capacity model, 8 shards and 1.
 * ROOM_BENCH_LEGACY=1 measures the room as it was before presence by
 * interest (room-effigy.ts); ROOM_BENCH_ONLY=relay,burst,storm,load picks tables.
 * Every wait has a deadline, so the suite always ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Identity, KeyPair } from '../src/protocol/index.ts';
import { ROOM_LIMITS } from '../src/server/room/limits.ts';
import { freePort, startLocalWorker } from '../test/support/local-worker.ts';
import { connectEffigy, LEGACY, type BenchClient } from './room-effigy.ts';
import { burst, keysFor, load, storm } from './room-presence.ts';
import { percentile, printTable, type Row } from './table.ts';

const SIZES = (process.env.ROOM_BENCH_SIZES ?? '10,100,500').split(',').map(Number);
const BATCH = 25;
const RTT_SAMPLES = 200;
const RELAY_TOTAL = 2000;
const NEWCOMERS = 5;
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

async function inBatches<T>(n: number, make: (i: number) => Promise<T>): Promise<T[]> {
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

interface Driver {
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

function effigyDriver(base: string, newcomers: KeyPair[]): Driver {
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

async function startPeerServer(): Promise<{ port: number; stop(): Promise<void> }> {
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

function peerjsDriver(port: number): Driver {
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

interface Result {
  joinMs: number;
  onlineMs: number;
  rttP50: number;
  rttP99: number;
  relayRate: number;
}

async function measure(driver: Driver, room: string, n: number): Promise<Result> {
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

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const log = (line: string) => process.stderr.write(`[room bench] ${line}\n`);

const ROUNDS = Number(process.env.ROOM_BENCH_ROUNDS ?? 3);
const ONLY = new Set((process.env.ROOM_BENCH_ONLY ?? 'relay,burst,storm,load').split(','));
const STORM_N = Number(process.env.ROOM_BENCH_STORM ?? (LEGACY ? 500 : 2000));
const BURST_N = Number(process.env.ROOM_BENCH_BURST ?? 500);
/** ROOM_BENCH_SHARDS overrides wrangler.toml's ROOM_SHARDS for the relay, burst and storm tables. */
const STATS: Record<string, string> = {
  ROOM_STATS: '1',
  ...(process.env.ROOM_BENCH_SHARDS ? { ROOM_SHARDS: process.env.ROOM_BENCH_SHARDS } : {}),
};

/** Median [min–max] of several rounds. */
function summary(values: number[]): { median: number; text: string } {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { median, text: sorted.length > 1 ? `${fmt(median)} [${fmt(sorted[0]!)}–${fmt(sorted.at(-1)!)}]` : fmt(median) };
}

async function withWorker<T>(vars: Record<string, string>, run: (url: string) => Promise<T>): Promise<T> {
  const worker = await startLocalWorker({ vars: LEGACY ? {} : vars });
  try {
    return await run(worker.url);
  } catch (err) {
    const logs = worker
      .logs()
      .split('\n')
      .filter((l) => !/Switching Protocols|GET \/health|Request\.cf|ENOTFOUND/.test(l));
    log(`failed: ${(err as Error).message}\nthe local Worker's last log lines:\n${logs.slice(-30).join('\n')}`);
    throw err;
  } finally {
    await worker.stop();
  }
}

async function relayTable(): Promise<void> {
  const rows: Row[] = [];
  const metrics: [string, keyof Result][] = [
    ['join N clients (ms)', 'joinMs'],
    ['presence → all N watchers (ms)', 'onlineMs'],
    ['message_to RTT p50 (ms)', 'rttP50'],
    ['message_to RTT p99 (ms)', 'rttP99'],
    ['relayed msgs/s', 'relayRate'],
  ];
  for (const n of SIZES) {
    const effigy: Result[] = [];
    const peerjs: Result[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A fresh Worker and PeerJS server per N and round, so no run inherits another's leftovers.
      const peerServer = await startPeerServer();
      try {
        log(`N=${n} round ${round + 1}: Effigy`);
        effigy.push(await withWorker(STATS, async (url) => measure(effigyDriver(url, await keysFor(NEWCOMERS)), `bench-${n}`, n)));
        log(`N=${n} round ${round + 1}: PeerJS`);
        peerjs.push(await measure(peerjsDriver(peerServer.port), `bench-${n}`, n));
      } finally {
        await peerServer.stop();
      }
    }
    for (const [label, key] of metrics) {
      const e = summary(effigy.map((r) => r[key]));
      const p = summary(peerjs.map((r) => r[key]));
      rows.push({ N: n, metric: label, Effigy: e.text, PeerJS: p.text, 'Effigy/PeerJS': (e.median / p.median).toFixed(2) });
    }
  }
  printTable(
    `room: N clients in one room, Effigy${LEGACY ? ' (before: one object, all-to-all)' : ''} vs PeerJS server, median [min–max] of ${ROUNDS}`,
    rows,
  );
  console.log(
    '\nRatios are of medians, Effigy/PeerJS: below 1 is better for times, above 1 for msgs/s.' +
      "\npresence → all N watchers: from the newcomer's session_auth until all N have it present (every client watches the newcomers). PeerJS has no presence: its baseline is the newcomer sending one message to each of the N." +
      `\nrelay: each client sends min(${ROOM_LIMITS.rateBurst - 10}, ${RELAY_TOTAL}/N) messages to its neighbour at once.`,
  );
}

async function burstTable(): Promise<void> {
  const rows: Row[] = [];
  for (const follows of LEGACY ? (['all'] as const) : (['all', 150] as const)) {
    const runs = [];
    for (let round = 0; round < ROUNDS; round++) {
      log(`burst N=${BURST_N}, follows ${follows}, round ${round + 1}`);
      runs.push(await withWorker(STATS, (url) => burst(url, `burst-${round}`, BURST_N, follows)));
    }
    rows.push({
      'who watches whom': follows === 'all' ? 'everyone everyone' : `each ${follows} others`,
      'presence frames per join': summary(runs.map((r) => r.framesPerJoin)).text,
      'join all (ms)': summary(runs.map((r) => r.joinMs)).text,
      'settled (ms)': summary(runs.map((r) => r.settleMs)).text,
    });
  }
  printTable(
    `room: presence frames per join in a burst of N = ${BURST_N}${LEGACY ? ' (before)' : ''}, median [min–max] of ${ROUNDS}; PeerJS has no presence`,
    rows,
  );
}

async function stormTable(): Promise<void> {
  const follows = LEGACY ? ('all' as const) : 150;
  const runs = [];
  const peerjs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    log(`storm N=${STORM_N}, round ${round + 1}`);
    runs.push(await withWorker(STATS, (url) => storm(url, `storm-${round}`, STORM_N, follows)));
    const server = await startPeerServer();
    try {
      const driver = peerjsDriver(server.port);
      const peers = await inBatches(STORM_N, () => driver.connect(`storm-${round}`));
      for (const p of peers) p.close();
      const t0 = performance.now();
      const back = await Promise.all(peers.map(() => driver.connect(`storm-${round}-back`)));
      peerjs.push(performance.now() - t0);
      for (const p of back) p.close();
    } finally {
      await server.stop();
    }
  }
  const settle = summary(runs.map((r) => r.settleMs));
  const base = summary(peerjs);
  printTable(
    `room: reconnect storm, N = ${STORM_N} clients drop and come back at once${LEGACY ? ' (before: everyone sees everyone)' : `, each watching ${follows}`}, median [min–max] of ${ROUNDS}`,
    [
      {
        metric: 'until presence is right everywhere (ms)',
        Effigy: settle.text,
        PeerJS: `${base.text} (all reconnected; no presence)`,
        'Effigy/PeerJS': (settle.median / base.median).toFixed(2),
      },
      { metric: 'presence frames, all clients', Effigy: summary(runs.map((r) => r.presenceFrames)).text, PeerJS: '', 'Effigy/PeerJS': '' },
      { metric: 'presence frames per client', Effigy: summary(runs.map((r) => r.framesPerClient)).text, PeerJS: '', 'Effigy/PeerJS': '' },
      { metric: 'frames of any kind, all clients', Effigy: summary(runs.map((r) => r.allFrames)).text, PeerJS: '', 'Effigy/PeerJS': '' },
      { metric: 'events at the busiest object', Effigy: summary(runs.map((r) => r.busiestEvents)).text, PeerJS: '', 'Effigy/PeerJS': '' },
    ],
  );
}

async function loadTable(): Promise<void> {
  const rows: Row[] = [];
  // 1/100 of the hot room: 100 members who all watch each other; a message_to every 10 s each (the model's
  // rate), then every 100 ms each (the whole 10k room's message rate through 1/100 of its sockets).
  for (const shards of LEGACY ? ['1'] : ['8', '1']) {
    for (const [label, everyMs, seconds] of [
      ['every 10 s (model rate, 1/100 members)', 10_000, 30],
      ['every 100 ms (the full room’s 1,000 msgs/s)', 100, 15],
    ] as const) {
      const runs = [];
      for (let round = 0; round < ROUNDS; round++) {
        log(`load: ${shards} shard(s), ${label}, round ${round + 1}`);
        runs.push(await withWorker({ ...STATS, ROOM_SHARDS: shards }, (url) => load(url, `load-${round}`, 100, everyMs, seconds)));
      }
      rows.push({
        shards: LEGACY ? '1 (before)' : shards,
        'message_to each': label,
        'events/s, busiest object': summary(runs.map((r) => r.busiestPerSecond)).text,
        'events/s, all objects': summary(runs.map((r) => r.allPerSecond)).text,
        'sockets, busiest': summary(runs.map((r) => r.socketsBusiest)).text,
        'delivered/sent': summary(runs.map((r) => r.delivered / Math.max(1, r.sent))).text,
      });
    }
  }
  printTable(
    `room: the capacity model at 1/100 (100 members), median [min–max] of ${ROUNDS}; events = frames + RPC calls an object handled`,
    rows,
  );
}

export default async function roomBench(): Promise<void> {
  if (LEGACY) log('legacy: measuring the room as it was before presence by interest');
  if (ONLY.has('relay')) await relayTable();
  if (ONLY.has('burst')) await burstTable();
  if (ONLY.has('storm')) await stormTable();
  if (ONLY.has('load')) await loadTable();
}
