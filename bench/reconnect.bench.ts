/**
 * Coming back after a day: a device that follows N identities (1,000, and
 * 5,000 to show how the cost grows), of which 10 posted since, reconnects to
 * a peer that holds and follows the same identities (another device of the
 * same person, or a friend's always-on peer). Both engines are real
 * (src/peer, in-memory stores) on a link with a fixed one-way delay, so round
 * trips show up as time: round trips = elapsed / RTT.
 *
 * Measured, in both directions: frames and UTF-8 bytes by message type, the
 * round trips until the device holds every new head, and until the link is
 * quiet. Today's full `get_heads` exchange is the baseline a reconciliation
 * design must beat: at most 2 round trips and at most 5% of these bytes.
 */
import { Channel } from '../src/peer/channel.ts';
import { MemoryStore } from '../src/peer/memory-store.ts';
import { Peer } from '../src/peer/peer.ts';
import { createEntry, generateKeyPair, nextComparable, utf8Length, type Entry, type Identity } from '../src/protocol/index.ts';
import { printTable, spread, withRange, type Row } from './table.ts';

const FOLLOWS = [1_000, 5_000];
const CHANGED = 10;
const ONE_WAY_MS = 25;
const RTT_MS = 2 * ONE_WAY_MS;
const RUNS = 3;
const DEADLINE_MS = 60_000;

interface Frame {
  from: 'device' | 'peer';
  type: string;
  bytes: number;
  sent: number;
}

/** A link with a fixed one-way delay that records every frame. Delivery keeps order (timers of one delay fire in order). */
function delayedPair(log: Frame[]): [Channel, Channel] {
  let inFlight = 0;
  class Delayed extends Channel {
    readonly kind = 'memory' as const;
    other!: Delayed;
    constructor(readonly side: Frame['from']) {
      super();
    }
    protected transmit(frame: string): void {
      log.push({ from: this.side, type: (JSON.parse(frame) as { type: string }).type, bytes: utf8Length(frame), sent: performance.now() });
      inFlight++;
      setTimeout(() => {
        inFlight--;
        this.other.deliver(frame);
      }, ONE_WAY_MS);
    }
    protected shutdown(reason: string): void {
      setTimeout(() => this.other.closedBy(reason), ONE_WAY_MS);
    }
    static idle = () => inFlight === 0;
  }
  const device = new Delayed('device');
  const peer = new Delayed('peer');
  device.other = peer;
  peer.other = device;
  return [device, peer];
}

interface World {
  yesterday: Entry[];
  today: Entry[];
}

/** One entry per followed identity yesterday; CHANGED of them, spread over the list, posted one more since. */
async function world(follows: number): Promise<World> {
  const yesterday: Entry[] = [];
  const today: Entry[] = [];
  for (let i = 0; i < follows; i++) {
    const keys = await generateKeyPair();
    const old = await createEntry(keys, {
      parent: null,
      comparable: nextComparable(null),
      synod: null,
      payload: { type: 'public_note', text: `note ${i}` },
    });
    yesterday.push(old);
    if (i % (follows / CHANGED) === 0)
      today.push(
        await createEntry(keys, {
          parent: old.hash,
          comparable: nextComparable(old),
          synod: null,
          payload: { type: 'public_note', text: `news ${i}` },
        }),
      );
  }
  return { yesterday, today };
}

async function seeded(entries: Entry[], follows: Entry[]): Promise<Peer> {
  const store = new MemoryStore();
  for (const e of entries) await store.putEntry(e);
  const newest = new Map<Identity, Entry>();
  for (const e of entries) if ((newest.get(e.body.identity)?.body.comparable ?? -1) < e.body.comparable) newest.set(e.body.identity, e);
  for (const e of newest.values()) await store.setHead({ identity: e.body.identity, hash: e.hash, comparable: e.body.comparable });
  for (const e of follows) await store.setWatch({ identity: e.body.identity, reasons: ['follow'] });
  return Peer.open({ store });
}

interface Run {
  frames: Frame[];
  t0: number;
  upToDate: number;
  quiet: number;
}

async function reconnect(w: World): Promise<Run> {
  const device = await seeded(w.yesterday, w.yesterday);
  const peer = await seeded([...w.yesterday, ...w.today], w.yesterday);
  const log: Frame[] = [];
  const [cd, cp] = delayedPair(log);
  const idle = (cd.constructor as unknown as { idle: () => boolean }).idle;
  let upToDate = 0;
  const want = new Set(w.today.map((e) => e.hash));
  device.events.on('head', (h) => {
    want.delete(h.hash);
    if (want.size === 0 && upToDate === 0) upToDate = performance.now();
  });
  await Promise.all([
    device.mesh.adopt(cd, { endpoint: 'memory:reconnect', room: 'memory' }),
    peer.mesh.adopt(cp, { endpoint: 'memory:reconnect', room: 'memory' }),
  ]);
  // Done when the device holds every new head and no frame has moved for two round trips.
  const end = performance.now() + DEADLINE_MS;
  let quietSince = performance.now();
  let seen = log.length;
  while (upToDate === 0 || performance.now() - quietSince < 2 * RTT_MS) {
    if (performance.now() > end) throw new Error(`reconnect did not settle in ${DEADLINE_MS / 1000} s (${want.size} heads missing)`);
    await new Promise((r) => setTimeout(r, 5));
    if (log.length !== seen || !idle()) [seen, quietSince] = [log.length, performance.now()];
  }
  device.close();
  peer.close();
  const t0 = log.find((f) => !f.type.startsWith('session_'))?.sent ?? NaN;
  const last = log[log.length - 1]?.sent ?? NaN;
  return { frames: log, t0, upToDate, quiet: last + ONE_WAY_MS };
}

const EXCHANGE = new Set(['get_heads', 'last_known_heads']);
const sum = (frames: Frame[], keep: (f: Frame) => boolean) => frames.filter(keep).reduce((n, f) => n + f.bytes, 0);

export default async function reconnectBench(): Promise<void> {
  const rows: Row[] = [];
  const byType: Row[] = [];
  for (const follows of FOLLOWS) {
    const w = await world(follows);
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await reconnect(w));
    const after = (r: Run) => r.frames.filter((f) => !f.type.startsWith('session_'));
    const s = (pick: (r: Run) => number) => spread(runs.map(pick));
    const exchange = s((r) => sum(after(r), (f) => EXCHANGE.has(f.type)));
    const news = w.today.reduce((n, e) => n + e.size, 0);
    rows.push({
      follows,
      changed: CHANGED,
      'round trips until up to date': withRange(
        s((r) => (r.upToDate - r.t0) / RTT_MS),
        1,
      ),
      'round trips until quiet': withRange(
        s((r) => (r.quiet - r.t0) / RTT_MS),
        1,
      ),
      'frames device→peer / peer→device': `${withRange(s((r) => after(r).filter((f) => f.from === 'device').length))} / ${withRange(s((r) => after(r).filter((f) => f.from === 'peer').length))}`,
      'bytes device→peer': withRange(s((r) => sum(after(r), (f) => f.from === 'device'))),
      'bytes peer→device': withRange(s((r) => sum(after(r), (f) => f.from === 'peer'))),
      'get_heads exchange bytes (baseline)': withRange(exchange),
      'target ≤ 5%': Math.round(exchange.median * 0.05),
      'new entries, bytes': news,
    });
    const types = [...new Set(runs[0]!.frames.map((f) => f.type))];
    for (const type of types) {
      const frames = runs[0]!.frames.filter((f) => f.type === type);
      const dir = (from: Frame['from']) => frames.filter((f) => f.from === from);
      byType.push({
        follows,
        type,
        'frames device→peer': dir('device').length,
        'bytes device→peer': sum(dir('device'), () => true),
        'frames peer→device': dir('peer').length,
        'bytes peer→device': sum(dir('peer'), () => true),
      });
    }
  }
  printTable(
    `coming back after a day: reconnect to a peer following the same identities, ${CHANGED} changed, RTT ${RTT_MS} ms (after the session handshake; target: ≤ 2 round trips, ≤ 5% of the get_heads bytes)`,
    rows,
  );
  printTable('the same reconnect by message type (first run; session_* is the handshake, before the count above)', byType);
}
