/**
 * Replication: 10,000 entries of one feed from peer A to peer B through the
 * local room (wrangler dev, relay path: what browsers fall back to), against
 * the same replication over an in-memory link (no network, no room) as the
 * baseline, each RUNS times (a fresh B each time; the median, with the
 * range). Entries/s, wire bytes per entry against the raw entry bytes, and
 * the time from B's follow to its first entry.
 */
import { memoryPair } from '../src/peer/channel.ts';
import { MemoryStore } from '../src/peer/memory-store.ts';
import { Peer } from '../src/peer/peer.ts';
import type { Entry } from '../src/protocol/index.ts';
import { startLocalWorker } from '../test/support/local-worker.ts';
import { printTable, ratio, spread, withRange } from './table.ts';

const ENTRIES = 10_000;
const TIMEOUT_MS = 300_000;
const RUNS = 3;

interface Run {
  seconds: number;
  firstEntryMs: number;
  wireBytes: number;
}

async function authorFeed(): Promise<{ alice: Peer; rawBytes: number }> {
  const alice = await Peer.open({ store: new MemoryStore() });
  let rawBytes = 0;
  let parentText: Entry | null = null;
  for (let i = 0; i < ENTRIES; i++) {
    parentText = await alice.postNote(`replication benchmark entry ${i}: ${'lorem ipsum '.repeat(8)}`);
    rawBytes += parentText.size;
  }
  return { alice, rawBytes };
}

async function measure(alice: Peer, bob: Peer, connect: () => Promise<() => number>): Promise<Run> {
  const head = (await alice.replica.head(alice.identity))!.hash;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('replication did not finish in time')), TIMEOUT_MS);
    bob.events.on('head', (h) => {
      if (h.identity === alice.identity && h.hash === head) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const t0 = performance.now();
  let first = 0;
  const off = bob.events.on('entry', () => {
    first = performance.now() - t0;
    off();
  });
  const wire = await connect();
  await bob.follow(alice.identity);
  await done;
  return { seconds: (performance.now() - t0) / 1000, firstEntryMs: first, wireBytes: wire() };
}

export default async function replicationBench(): Promise<void> {
  const { alice, rawBytes } = await authorFeed();
  const worker = await startLocalWorker();
  const memory: Run[] = [];
  const room: Run[] = [];
  try {
    const url = `${worker.url.replace(/^http/, 'ws')}/room/bench-replication`;
    const online = async (p: Peer) => {
      const r = p.connect(url);
      if (r.status !== 'online') await r.events.once('status', (s) => s === 'online');
      return r;
    };
    // Links are by consent: Alice serves strangers (a pub), and each Bob dials her as his pub.
    await alice.setPrivacy({ pub: true });
    // Interleaved, so a noisy moment on this shared machine hits both paths alike.
    for (let i = 0; i < RUNS; i++) {
      // Baseline: an in-memory link, no network and no room.
      const memBob = await Peer.open({ store: new MemoryStore() });
      memory.push(
        await measure(alice, memBob, async () => {
          const [ca, cb] = memoryPair();
          await Promise.all([
            alice.mesh.adopt(ca, { endpoint: 'memory:bench', room: 'memory' }),
            memBob.mesh.adopt(cb, { endpoint: 'memory:bench', room: 'memory' }),
          ]);
          return () => cb.bytesReceived;
        }),
      );
      memBob.close();
      // Each relay run meets in the room afresh, as two peers do: both sockets start with the room's full burst.
      await online(alice);
      const roomBob = await Peer.open({ store: new MemoryStore() });
      await roomBob.addPub(alice.identity);
      room.push(
        await measure(alice, roomBob, async () => {
          const r = await online(roomBob);
          await new Promise<void>((resolve) => {
            if (roomBob.links().some((l) => l.identity === alice.identity)) return resolve();
            roomBob.events.once('peer', (p) => p.identity === alice.identity && p.connected).then(() => resolve());
          });
          const start = r.link!.channel.bytesReceived;
          return () => r.link!.channel.bytesReceived - start;
        }),
      );
      roomBob.close();
      alice.disconnect(url);
      // The room forgets both sockets before the next run.
      await new Promise((r) => setTimeout(r, 200));
    }
    alice.close();
  } finally {
    await worker.stop();
  }
  const rate = (r: Run) => ENTRIES / r.seconds;
  const memoryRate = spread(memory.map(rate));
  const row = (name: string, runs: Run[]) => {
    const s = (pick: (r: Run) => number) => spread(runs.map(pick));
    return {
      path: name,
      'entries/s': withRange(s(rate)),
      'wire bytes/entry': withRange(
        s((r) => r.wireBytes / ENTRIES),
        1,
      ),
      'raw bytes/entry': (rawBytes / ENTRIES).toFixed(1),
      'first entry ms': withRange(s((r) => r.firstEntryMs)),
      'vs in-memory': ratio(s(rate).median, memoryRate.median),
    };
  };
  printTable(
    `replication of ${ENTRIES.toLocaleString('en-US')} entries, peer A → peer B, ${RUNS} runs each (target: the relay at 0.8× or better)`,
    [row('in-memory link (baseline)', memory), row('through the local room (relay)', room)],
  );
}
