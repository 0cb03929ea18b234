/**
 * An honest drop's round trip while strangers hammer the room's hosted
 * lookups (issue 14, attack 6): four sockets each send `get_heads` of 512
 * identities about 11 times a second (about 45/s in all, within each
 * socket's rate limit), and one honest client leaves drops one after
 * another, timing drop → ok. Against the local Worker (`wrangler dev
 * --local`, as `npm start` runs it), where D1 is one SQLite file every room
 * shares, as it is one database on Cloudflare.
 *
 * Baseline, in the same run: the same drops with no load. The ratio is the
 * p50 under load ÷ the p50 without. Each `get_heads` reads hosted storage
 * once (a single D1 round trip, json_each over the 512); before issue 14 it
 * was six sequential round trips of up to 89 identities each.
 */
import { canonicalEndpoint, createEntry, generateKeyPair, seal, utf8, type Identity } from '../src/protocol/index.ts';
import { startLocalWorker } from '../test/support/local-worker.ts';
import { handshake, RoomClient, type Session } from '../test/support/room-client.ts';
import { percentile, printTable, type Row } from './table.ts';

const LOADERS = 4;
const LOAD_INTERVAL_MS = 90;
const DROPS = 40;
const DEADLINE_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connect(url: string): Promise<Session> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  return handshake(new RoomClient(ws), canonicalEndpoint(url), { keys: await generateKeyPair() });
}

/** Round trips (ms) of DROPS drops, each to a fresh target (no per-target budget comes into it). */
async function dropTimes(sender: Session): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < DROPS; i++) {
    const target = (await generateKeyPair()).identity;
    const { envelope } = seal(utf8(`honest ${i}`), { author: sender.identity, kind: 'drop', readers: [target] });
    const entry = await createEntry(sender.keys, {
      parent: null,
      comparable: Date.now(),
      synod: null,
      payload: { type: 'private_note', envelope },
    });
    const id = `d${i}`;
    const t0 = performance.now();
    sender.client.send({ type: 'drop', id, target, sender: sender.identity, entry: entry.text });
    await Promise.race([
      sender.client.next('ok', (m) => m.re === id, DEADLINE_MS),
      sender.client
        .next('error', (m) => m.re === id, DEADLINE_MS)
        .then((e) => {
          throw new Error(`drop refused: ${e.code}: ${e.message}`);
        }),
    ]);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/** Loaders sending get_heads of 512 identities until stopped; answers how many were answered. */
function load(loaders: Session[], identities: Identity[]): { stop: () => Promise<number> } {
  let running = true;
  let answered = 0;
  const loops = loaders.map(async (s, n) => {
    s.client.onFrame = (text) => {
      if (text.includes('"last_known_heads"')) answered++;
    };
    for (let i = 0; running; i++) {
      s.client.send({ type: 'get_heads', id: `h${n}-${i}`, identities });
      await sleep(LOAD_INTERVAL_MS);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return answered;
    },
  };
}

export default async function run(): Promise<void> {
  const worker = await startLocalWorker();
  try {
    const url = `${worker.url.replace(/^http/, 'ws')}/room/hosted-load`;
    // A fresh sender per phase: one identity has at most 100 drops waiting.
    const senders = [await connect(url), await connect(url), await connect(url)];
    await dropTimes(senders[0]!); // warm-up
    const quiet = await dropTimes(senders[1]!);
    const identities: Identity[] = [];
    for (let i = 0; i < 512; i++) identities.push((await generateKeyPair()).identity);
    const loaders = await Promise.all(Array.from({ length: LOADERS }, () => connect(url)));
    const t0 = performance.now();
    const running = load(loaders, identities);
    const busy = await dropTimes(senders[2]!);
    const answered = await running.stop();
    const seconds = (performance.now() - t0) / 1000;
    const row = (what: string, t: number[]): Row => ({
      drops: what,
      n: t.length,
      'p50 ms': percentile(t, 50),
      'p95 ms': percentile(t, 95),
      'max ms': t[t.length - 1] ?? NaN,
    });
    printTable('an honest drop (drop → ok) with and without get_heads load on hosted storage', [
      row('no load (baseline)', quiet),
      row(`${LOADERS} sockets × get_heads of 512, ${(answered / seconds).toFixed(0)} answered/s`, busy),
    ]);
    console.log(`\np50 under load ÷ p50 without: ${(percentile(busy, 50) / percentile(quiet, 50)).toFixed(2)}`);
    for (const s of [...senders, ...loaders]) s.client.close();
  } finally {
    await worker.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
