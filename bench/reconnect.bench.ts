/**
 * Coming back after a day: a device that follows N identities (1,000, and
 * 5,000 to show how the cost grows), of which 10 posted since, reconnects to
 * a peer that holds and follows the same identities (another device of the
 * same person, or a friend's always-on peer; the two follow each other).
 * Both engines are real (src/peer, in-memory stores) on a link with a fixed
 * one-way delay, so round trips show up as time: round trips = elapsed / RTT.
 *
 * Three ways, each run RUNS times on fresh stores, all in the same run:
 * - baseline: today's full `get_heads` exchange on every connection
 *   (engines without per-peer notes);
 * - first contact with notes: the two have never met, so each registers its
 *   whole interest list (docs/protocol.md §13.7);
 * - reconnect with notes: they met yesterday (notes kept), the peer took in
 *   the 10 new heads since, and the device connects again.
 *
 * Measured, in both directions after the session handshake: frames and UTF-8
 * bytes by message type, the round trips until the device holds every new
 * head, and until the link is quiet. Target: at most 2 round trips and at
 * most 5% of the baseline's head-exchange bytes.
 */
import { Channel } from '../src/peer/channel.ts';
import { MemoryStore } from '../src/peer/memory-store.ts';
import { Peer } from '../src/peer/peer.ts';
import { createEntry, generateKeyPair, nextComparable, utf8Length, type Entry, type Identity } from '../src/protocol/index.ts';
import { printTable, ratio, spread, withRange, type Row } from './table.ts';

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
function delayedPair(log: Frame[]): [Channel, Channel, () => boolean] {
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
  }
  const device = new Delayed('device');
  const peer = new Delayed('peer');
  device.other = peer;
  peer.other = device;
  return [device, peer, () => inFlight === 0];
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

async function seeded(entries: Entry[], notes: boolean): Promise<Peer> {
  const store = new MemoryStore();
  for (const e of entries) {
    await store.putEntry(e);
    await store.setHead({ identity: e.body.identity, hash: e.hash, comparable: e.body.comparable });
    await store.setWatch({ identity: e.body.identity, reasons: ['follow'] });
  }
  return Peer.open({ store, notes });
}

/** Entries that reached the peer from elsewhere while the device was away. */
async function takeIn(peer: Peer, entries: Entry[]): Promise<void> {
  for (const e of entries) {
    await peer.replica.accept(e.body.identity, [e], 'elsewhere');
    await peer.replica.considerHead(e.body.identity, e.hash);
  }
}

interface Run {
  frames: Frame[];
  t0: number;
  upToDate: number;
  quiet: number;
}

/** Link the two, wait until the device holds `want` and no frame has moved for two round trips; then close the link. */
async function connect(device: Peer, peer: Peer, want: Set<string>): Promise<Run> {
  const log: Frame[] = [];
  const [cd, cp, idle] = delayedPair(log);
  let upToDate = want.size === 0 ? performance.now() : 0;
  const off = device.events.on('head', (h) => {
    want.delete(h.hash);
    if (want.size === 0 && upToDate === 0) upToDate = performance.now();
  });
  await Promise.all([
    device.mesh.adopt(cd, { endpoint: 'memory:reconnect', room: 'memory' }),
    peer.mesh.adopt(cp, { endpoint: 'memory:reconnect', room: 'memory' }),
  ]);
  const end = performance.now() + DEADLINE_MS;
  let quietSince = performance.now();
  let seen = log.length;
  while (upToDate === 0 || performance.now() - quietSince < 2 * RTT_MS) {
    if (performance.now() > end) throw new Error(`reconnect did not settle in ${DEADLINE_MS / 1000} s (${want.size} heads missing)`);
    await new Promise((r) => setTimeout(r, 5));
    if (log.length !== seen || !idle()) [seen, quietSince] = [log.length, performance.now()];
  }
  off();
  cd.close('bye');
  await new Promise((r) => setTimeout(r, 2 * ONE_WAY_MS));
  const t0 = log.find((f) => !f.type.startsWith('session_'))?.sent ?? NaN;
  const last = log[log.length - 1]?.sent ?? NaN;
  return { frames: log, t0, upToDate, quiet: last + ONE_WAY_MS };
}

type Way = 'baseline' | 'first' | 'again';

/** One run of one way, on fresh engines. */
async function run(w: World, way: Way): Promise<Run> {
  const notes = way !== 'baseline';
  const device = await seeded(w.yesterday, notes);
  const peer = await seeded(w.yesterday, notes);
  await device.replica.watch(peer.identity, 'follow');
  await peer.replica.watch(device.identity, 'follow');
  if (way === 'again') await connect(device, peer, new Set()); // yesterday's meeting: notes are kept
  await takeIn(peer, w.today);
  const r = await connect(device, peer, new Set(w.today.map((e) => e.hash)));
  device.close();
  peer.close();
  return r;
}

const HEADS = new Set(['get_heads', 'last_known_heads', 'interests', 'get_changes', 'changes', 'ok']);
const sum = (frames: Frame[], keep: (f: Frame) => boolean) => frames.filter(keep).reduce((n, f) => n + f.bytes, 0);
const after = (r: Run) => r.frames.filter((f) => !f.type.startsWith('session_'));

const NAMES: Record<Way, string> = {
  baseline: 'baseline: full get_heads exchange (no notes)',
  first: 'first contact, notes: interest lists registered',
  again: 'reconnect, notes: changes since the last position',
};

export default async function reconnectBench(): Promise<void> {
  const rows: Row[] = [];
  const byType: Row[] = [];
  for (const follows of FOLLOWS) {
    const w = await world(follows);
    const runs = { baseline: [] as Run[], first: [] as Run[], again: [] as Run[] };
    // Interleaved, so a noisy moment hits every way alike.
    for (let i = 0; i < RUNS; i++) for (const way of ['baseline', 'first', 'again'] as const) runs[way].push(await run(w, way));
    const exchange = (r: Run) => sum(after(r), (f) => HEADS.has(f.type));
    const base = spread(runs.baseline.map(exchange));
    for (const way of ['baseline', 'first', 'again'] as const) {
      const rs = runs[way];
      const s = (pick: (r: Run) => number) => spread(rs.map(pick));
      const total = s((r) => sum(after(r), () => true));
      rows.push({
        follows,
        way: NAMES[way],
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
        'bytes, both ways': withRange(total),
        'vs baseline head exchange': ratio(total.median, base.median),
      });
      const frames = rs[0]!.frames;
      for (const type of [...new Set(frames.map((f) => f.type))]) {
        const of = frames.filter((f) => f.type === type);
        const dir = (from: Frame['from']) => of.filter((f) => f.from === from);
        byType.push({
          follows,
          way,
          type,
          'frames device→peer': dir('device').length,
          'bytes device→peer': sum(dir('device'), () => true),
          'frames peer→device': dir('peer').length,
          'bytes peer→device': sum(dir('peer'), () => true),
        });
      }
    }
    rows.push({
      follows,
      way: `(target: ≤ 2 round trips, ≤ 5% of the baseline's ${Math.round(base.median).toLocaleString('en-US')} head-exchange bytes = ${Math.round(base.median * 0.05).toLocaleString('en-US')}; the ${CHANGED} new entries themselves are ${w.today.reduce((n, e) => n + e.size, 0).toLocaleString('en-US')} bytes)`,
    });
  }
  printTable(
    `coming back after a day: reconnect to a peer following the same identities, ${CHANGED} changed, RTT ${RTT_MS} ms, ${RUNS} runs each (bytes after the session handshake, both ways)`,
    rows,
  );
  printTable('the same by message type (first run of each; session_* is the handshake, before the counts above)', byType);
}
