/**
 * The room server under N authenticated clients in one room (N = 10, 100,
 * 500), against the local Worker (`wrangler dev --local`, what `npm start`
 * runs), with PeerJS's signalling server (`peer` from npm) on the same
 * machine as the baseline, driven by the same Node process and the same load.
 *
 * Metrics per N:
 * - join: time to connect N clients (Effigy: WebSocket + Ed25519 session
 *   handshake both ways + provides + presence list; PeerJS: WebSocket + OPEN),
 *   BATCH at a time.
 * - online → all N: a newcomer joins; from its last handshake frame
 *   (session_auth) until all N have its `online`. PeerJS has no presence
 *   broadcast, so the baseline is its closest equivalent: from the newcomer's
 *   OPEN until N messages it sends (one per peer) have all arrived.
 * - RTT p50/p99: message_to A→B, B answers at once, measured at A; one round
 *   trip in flight at a time, cycling over pairs (PeerJS: OFFER → ANSWER).
 * - relay msgs/s: every client sends K messages to its neighbour at once,
 *   all in flight; from the first send to the last arrival. K keeps each
 *   Effigy socket within its rate-limit burst (the room's policy).
 * Every wait has a deadline, so the suite always ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { canonicalEndpoint, generateKeyPair } from '../src/protocol/index.ts';
import { ROOM_LIMITS } from '../src/server/room/limits.ts';
import { freePort, startLocalWorker } from '../test/support/local-worker.ts';
import { handshake, RoomClient } from '../test/support/room-client.ts';
import { percentile, printTable, type Row } from './table.ts';

const SIZES = [10, 100, 500];
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

function effigyDriver(base: string): Driver {
  let onlineHook: ((seenBy: Peer) => void) | undefined;
  const closes = new Map<number, number>();

  const wrap = (client: RoomClient, identity: string): Peer => {
    const peer: Peer = {
      id: identity,
      send: (to, payload) => client.ws.send(JSON.stringify({ type: 'message_to', to, payload })),
      onMessage: () => {},
      close: () => client.close(),
    };
    client.onFrame = (text) => {
      const msg = JSON.parse(text) as { type: string; from?: string; payload?: unknown; code?: string };
      if (msg.type === 'message_from') peer.onMessage(msg.from!, msg.payload);
      else if (msg.type === 'online') onlineHook?.(peer);
      else if (msg.type === 'error') console.error(`effigy error: ${text.slice(0, 200)}`);
    };
    return peer;
  };

  /** `beforeAuth` runs as the client's session_auth, its last handshake frame, leaves. */
  const connect = async (room: string, beforeAuth?: () => void): Promise<Peer> => {
    const url = `${base.replace(/^http/, 'ws')}/room/${room}`;
    const client = new RoomClient((await openSocket(url)) as never, false);
    if (beforeAuth) {
      const send = client.send.bind(client);
      client.send = (msg) => {
        if (typeof msg === 'object' && (msg as { type?: string }).type === 'session_auth') beforeAuth();
        send(msg);
      };
    }
    const session = await handshake(client, canonicalEndpoint(url), { keys: await generateKeyPair() });
    void client.closed.then(({ code }) => closes.set(code, (closes.get(code) ?? 0) + 1));
    return wrap(client, session.identity);
  };

  return {
    name: 'Effigy',
    connect: (room) => connect(room),
    async announce(room, others) {
      const seen = new Set<Peer>();
      let t0 = 0;
      onlineHook = (by) => seen.add(by);
      const peer = await connect(room, () => (t0 = performance.now()));
      await until('online at every client', () => seen.size >= others.length).catch((err: Error) => {
        throw new Error(`${err.message}: ${seen.size} of ${others.length} saw it; closes so far: ${JSON.stringify([...closes])}`);
      });
      const ms = performance.now() - t0;
      onlineHook = undefined;
      return { ms, peer };
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

export default async function roomBench(): Promise<void> {
  const rows: Row[] = [];
  const metrics: [string, keyof Result][] = [
    ['join N clients (ms)', 'joinMs'],
    ['online → all N (ms)', 'onlineMs'],
    ['message_to RTT p50 (ms)', 'rttP50'],
    ['message_to RTT p99 (ms)', 'rttP99'],
    ['relayed msgs/s', 'relayRate'],
  ];
  for (const n of SIZES) {
    // A fresh Worker and PeerJS server per N, so no size inherits another's leftovers.
    const worker = await startLocalWorker();
    const peerServer = await startPeerServer();
    try {
      log(`N=${n}: Effigy`);
      const effigy = await measure(effigyDriver(worker.url), `bench-${n}`, n);
      log(`N=${n}: PeerJS`);
      const peerjs = await measure(peerjsDriver(peerServer.port), `bench-${n}`, n);
      for (const [label, key] of metrics) {
        rows.push({
          N: n,
          metric: label,
          Effigy: fmt(effigy[key]),
          PeerJS: fmt(peerjs[key]),
          'Effigy/PeerJS': (effigy[key] / peerjs[key]).toFixed(2),
        });
      }
    } catch (err) {
      const logs = worker
        .logs()
        .split('\n')
        .filter((l) => !/Switching Protocols|GET \/health|Request\.cf|ENOTFOUND/.test(l));
      log(`N=${n} failed: ${(err as Error).message}\nthe local Worker's last log lines:\n${logs.slice(-30).join('\n')}`);
      rows.push({ N: n, metric: `failed: ${(err as Error).message.slice(0, 120)}`, Effigy: '', PeerJS: '', 'Effigy/PeerJS': '' });
    } finally {
      await peerServer.stop();
      await worker.stop();
    }
  }
  printTable('room: N clients in one room, Effigy (wrangler dev, workerd) vs PeerJS server (Node), loopback', rows);
  console.log(
    '\nRatios are Effigy/PeerJS: below 1 is better for times, above 1 is better for msgs/s.' +
      '\nonline → all N for PeerJS: it has no presence broadcast; the baseline is the newcomer sending one message to each of the N peers.' +
      `\nrelay: each client sends min(${ROOM_LIMITS.rateBurst - 10}, ${RELAY_TOTAL}/N) messages to its neighbour at once (Effigy's rate-limit burst is ${ROOM_LIMITS.rateBurst}).` +
      "\nEffigy: wrangler dev's local proxy, then a Durable Object with hibernatable WebSockets; join includes the Ed25519 handshake both ways and the online broadcast to everyone already present. PeerJS: one Node process, no authentication.",
  );
}
