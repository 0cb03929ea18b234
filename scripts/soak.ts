/**
 * A bounded soak of the room (issue 14): `npm run soak -- --clients 500 --minutes 10`.
 *
 * Starts a fresh local Worker (what `npm start` serves, bundled once and
 * served by `wrangler dev --local`, state in a temporary directory; or pass
 * `--url http://127.0.0.1:8787` for a running `npm start`, then RSS is not
 * sampled), dials `--clients` signed-in sockets to the room `main` (8
 * shards) from 16 loopback addresses, and for `--minutes`:
 * - each client sends a `message_to` to a random other client every ~3 s;
 * - 200 clients reconnect cleanly and 50 drop their TCP connection abruptly
 *   (then come back), spread over the run;
 * - an observer watches everyone.
 * Prints every 30 s, and at the end: messages sent, acknowledged, received,
 * refused (target away), lost (acknowledged but never received); sockets
 * dropped (closed by anything but us); ghosts (present to the observer but
 * gone); and workerd's RSS.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { canonicalEndpoint, generateKeyPair, type Identity, type KeyPair } from '../src/protocol/index.ts';
import { startLocalWorker, type LocalWorker } from '../test/support/local-worker.ts';
import { handshake, RoomClient, visibility, watch } from '../test/support/room-client.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '500' },
    minutes: { type: 'string', default: '10' },
    url: { type: 'string' },
    room: { type: 'string', default: 'main' },
  },
});
const CLIENTS = Number(values.clients);
const MINUTES = Number(values.minutes);
if (!(CLIENTS >= 2 && CLIENTS <= 2000) || !(MINUTES > 0 && MINUTES <= 60)) {
  console.error('--clients is 2 to 2000 and --minutes more than 0 and at most 60');
  process.exit(2);
}
const RECONNECTS = Math.min(200, CLIENTS);
const DROPS = Math.min(50, CLIENTS);
const SEND_EVERY_MS = 3000;
const ADDRESSES = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 2}`);

let worker: LocalWorker | null = null;
const base = values.url ?? (worker = await startLocalWorker({ startTimeoutMs: 120_000 })).url;
const roomUrl = (identity: Identity) => `${base.replace(/^http/, 'ws')}/room/${values.room}?identity=${identity}`;

/** workerd processes started by this script (descendants of this process), and their RSS in MiB. */
function workerdRss(): number | null {
  if (!worker) return null;
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p) ?? 0, hops++) if (p === process.pid) return true;
    return false;
  };
  let kib = 0;
  for (const [pid, name] of names) {
    if (name !== 'workerd' || !mine(pid)) continue;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    kib += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return kib / 1024;
}

interface Client {
  keys: KeyPair;
  client: RoomClient | null;
  ws: WebSocket | null;
  /** Closed on purpose by the soak (reconnect, drop): not counted as dropped. */
  leaving: boolean;
  address: string;
}

const stats = {
  toLeaving: 0,
  sent: 0,
  acked: 0,
  received: 0,
  refused: 0,
  unanswered: 0,
  dropped: 0,
  reconnects: 0,
  tcpDrops: 0,
  rateLimited: 0,
  otherErrors: 0,
};
/** Acknowledged messages not yet received: id → target. */
const inFlight = new Map<string, Identity>();
const awaitingAnswer = new Map<string, number>();
const clients: Client[] = [];
let seq = 0;

async function connect(c: Client, setup?: (client: RoomClient) => Promise<void>): Promise<void> {
  const url = roomUrl(c.keys.identity);
  const ws = new WebSocket(url, { localAddress: c.address });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const client = new RoomClient(ws as never);
  await handshake(client, canonicalEndpoint(url), { keys: c.keys });
  await visibility(client, true, true);
  await setup?.(client);
  c.client = client;
  c.ws = ws;
  c.leaving = false;
  client.onFrame = (text) => receive(c, text);
  void client.closed.then(() => {
    if (!c.leaving) stats.dropped++;
    if (c.client === client) c.client = null;
  });
}

function receive(c: Client, text: string): void {
  const msg = JSON.parse(text) as { type: string; re?: string; id?: string; code?: string; payload?: { k: string } };
  if (msg.type === 'ping') {
    c.client?.send({ type: 'pong', ...(msg.id ? { re: msg.id } : {}) });
  } else if (msg.type === 'message_from' && msg.payload) {
    const k = msg.payload.k;
    if (inFlight.delete(k)) stats.received++;
    else if (awaitingAnswer.has(k)) {
      stats.received++;
      receivedEarly.add(k);
    }
  } else if (msg.re && awaitingAnswer.has(msg.re)) {
    awaitingAnswer.delete(msg.re);
    const target = targets.get(msg.re);
    targets.delete(msg.re);
    if (msg.type === 'ok') {
      stats.acked++;
      // It may have arrived before its ok.
      if (receivedEarly.delete(msg.re)) return;
      // Acknowledged after the soak closed or dropped the target (the room delivered it to the closing socket).
      if (target && target.generation !== generations.get(target.identity)) stats.toLeaving++;
      else if (target) inFlight.set(msg.re, target.identity);
    } else if (msg.code === 'not_present') stats.refused++;
    else if (msg.code === 'rate_limited') stats.rateLimited++;
    else stats.otherErrors++;
  }
}
/** message_from that came before the sender's ok. */
const receivedEarly = new Set<string>();
/** The target of each message not yet answered, and which of its connections it was sent to. */
const targets = new Map<string, { identity: Identity; generation: number }>();
/** Connections made so far per client: a message acknowledged to an earlier one was sent to a socket since closed. */
const generations = new Map<Identity, number>();

/** Messages acknowledged to a socket the soak then closed or dropped before they arrived: the transport's loss, not the room's. */
function forgetInFlightTo(identity: Identity): void {
  for (const [k, to] of inFlight) {
    if (to !== identity) continue;
    inFlight.delete(k);
    stats.toLeaving++;
  }
}

function send(c: Client): void {
  const live = clients.filter((x) => x.client && x !== c);
  if (!c.client || live.length === 0) return;
  const to = live[Math.floor(Math.random() * live.length)]!;
  const k = `${++seq}`;
  awaitingAnswer.set(k, Date.now());
  targets.set(k, { identity: to.keys.identity, generation: generations.get(to.keys.identity) ?? 0 });
  stats.sent++;
  c.client.send({ type: 'message_to', id: k, to: to.keys.identity, payload: { k, text: 'soak '.repeat(8) } });
}

const rss: string[] = [];
const started = Date.now();
function report(final = false): void {
  const mib = workerdRss();
  const t = Math.round((Date.now() - started) / 1000);
  if (mib !== null) rss.push(`${t}s ${mib.toFixed(0)}`);
  const live = clients.filter((c) => c.client).length;
  console.log(
    `${final ? 'FINAL' : `t=${t}s`} clients ${live}/${CLIENTS} sent ${stats.sent} acked ${stats.acked} received ${stats.received} refused ${stats.refused} ` +
      `rate_limited ${stats.rateLimited} other_errors ${stats.otherErrors} in_flight ${inFlight.size} dropped ${stats.dropped} ` +
      `reconnects ${stats.reconnects} tcp_drops ${stats.tcpDrops}${mib === null ? '' : ` workerd_rss_mib ${mib.toFixed(1)}`}`,
  );
}

console.log(`soak: ${CLIENTS} clients, ${MINUTES} min, room ${values.room} at ${base}`);
report();
for (let i = 0; i < CLIENTS; i += 16) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(16, CLIENTS - i) }, async (_, j) => {
      const c: Client = {
        keys: await generateKeyPair(),
        client: null,
        ws: null,
        leaving: false,
        address: ADDRESSES[(i + j) % ADDRESSES.length]!,
      };
      await connect(c);
      return c;
    }),
  );
  clients.push(...batch);
}
const observerKeys = await generateKeyPair();
const observer: Client = { keys: observerKeys, client: null, ws: null, leaving: false, address: '127.0.0.1' };
const presence = new Map<Identity, boolean>();
await connect(observer, async (client) => {
  for (let i = 0; i < clients.length; i += 512)
    await watch(
      client,
      clients.slice(i, i + 512).map((c) => c.keys.identity),
    );
  for (const [identity] of client.present) presence.set(identity, true);
});
observer.client!.onFrame = (text) => {
  const msg = JSON.parse(text) as { type: string; id?: string; peers?: { identity: Identity }[]; offline?: Identity[] };
  if (msg.type === 'ping') observer.client?.send({ type: 'pong', ...(msg.id ? { re: msg.id } : {}) });
  if (msg.type !== 'presence_list') return;
  for (const p of msg.peers ?? []) presence.set(p.identity, true);
  for (const id of msg.offline ?? []) presence.delete(id);
};
console.log(`soak: ${clients.length} clients connected in ${Math.round((Date.now() - started) / 1000)} s`);

const endAt = Date.now() + MINUTES * 60_000;
const timers: ReturnType<typeof setInterval>[] = [];
for (const c of clients) {
  const jitter = Math.random() * SEND_EVERY_MS;
  setTimeout(() => timers.push(setInterval(() => Date.now() < endAt && send(c), SEND_EVERY_MS)), jitter);
}
timers.push(setInterval(() => report(), 30_000));

// Reconnects and drops, spread over the middle of the run.
const events = [...Array(RECONNECTS).fill('reconnect'), ...Array(DROPS).fill('drop')].sort(() => Math.random() - 0.5) as string[];
const spacing = (MINUTES * 60_000 * 0.8) / events.length;
events.forEach((kind, i) => {
  setTimeout(
    async () => {
      const c = clients[Math.floor(Math.random() * clients.length)]!;
      if (!c.client || !c.ws) return;
      c.leaving = true;
      if (kind === 'drop') {
        c.ws.terminate(); // the TCP connection goes without a close frame
        stats.tcpDrops++;
      } else {
        c.client.close();
        await c.client.closed;
        stats.reconnects++;
      }
      c.client = null;
      forgetInFlightTo(c.keys.identity);
      generations.set(c.keys.identity, (generations.get(c.keys.identity) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 1000));
      await connect(c).catch((err: unknown) => console.error(`soak: reconnect failed: ${String(err)}`));
    },
    MINUTES * 60_000 * 0.1 + i * spacing,
  );
});

await new Promise((r) => setTimeout(r, Math.max(0, endAt - Date.now())));
for (const t of timers) clearInterval(t);
// Let the last messages land (a deadline, polled).
const drainUntil = Date.now() + 15_000;
while ((inFlight.size > 0 || awaitingAnswer.size > 0) && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 200));
stats.unanswered = awaitingAnswer.size;
const live = new Set(clients.filter((c) => c.client).map((c) => c.keys.identity));
const ghosts = [...presence.keys()].filter((id) => !live.has(id)).length;
const missing = [...live].filter((id) => !presence.has(id)).length;
report(true);
console.log(
  `messages: sent ${stats.sent}, acknowledged ${stats.acked}, received ${stats.received}, refused (target away) ${stats.refused}, ` +
    `rate_limited ${stats.rateLimited}, unanswered ${stats.unanswered}, lost ${inFlight.size} ` +
    `(and ${stats.toLeaving} acknowledged to a socket the soak closed or dropped before they arrived)`,
);
console.log(
  `sockets: dropped ${stats.dropped}; reconnects ${stats.reconnects}, abrupt TCP drops ${stats.tcpDrops}; presence: ghosts ${ghosts}, missing ${missing}`,
);
if (rss.length > 0) console.log(`workerd RSS (MiB) every 30 s: ${rss.join(', ')}`);
for (const c of [...clients, observer]) {
  c.leaving = true;
  c.ws?.terminate();
}
await worker?.stop();
process.exit(inFlight.size === 0 && stats.dropped === 0 && ghosts === 0 ? 0 : 1);
