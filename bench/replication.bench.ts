/**
 * Replication: 10,000 entries of one feed from peer A to peer B through the
 * local room (wrangler dev, relay path: what browsers fall back to), against
 * the same replication over an in-memory link (no network, no room) as the
 * baseline. Entries/s, wire bytes per entry against the raw entry bytes, and
 * the time from B's follow to its first entry.
 */
import { memoryPair } from '../src/peer/channel.ts';
import { MemoryStore } from '../src/peer/memory-store.ts';
import { Peer } from '../src/peer/peer.ts';
import type { Entry } from '../src/protocol/index.ts';
import { startLocalWorker } from '../test/support/local-worker.ts';
import { printTable } from './table.ts';

const ENTRIES = 10_000;
const TIMEOUT_MS = 300_000;

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

  // Baseline: an in-memory link, no network and no room.
  const memBob = await Peer.open({ store: new MemoryStore() });
  const memory = await measure(alice, memBob, async () => {
    const [ca, cb] = memoryPair();
    await Promise.all([
      alice.mesh.adopt(ca, { endpoint: 'memory:bench', room: 'memory' }),
      memBob.mesh.adopt(cb, { endpoint: 'memory:bench', room: 'memory' }),
    ]);
    return () => cb.bytesReceived;
  });
  alice.close();

  const worker = await startLocalWorker();
  try {
    const url = `${worker.url.replace(/^http/, 'ws')}/room/bench-replication`;
    const roomBob = await Peer.open({ store: new MemoryStore() });
    const online = async (p: Peer) => {
      const room = p.connect(url);
      if (room.status !== 'online') await room.events.once('status', (s) => s === 'online');
      return room;
    };
    // Links are by consent: Alice serves strangers (a pub), Bob dials her as his pub.
    await alice.setPrivacy({ pub: true });
    await roomBob.addPub(alice.identity);
    await online(alice);
    const room = await measure(alice, roomBob, async () => {
      const r = await online(roomBob);
      await new Promise<void>((resolve) => {
        if (roomBob.links().some((l) => l.identity === alice.identity)) return resolve();
        roomBob.events.once('peer', (p) => p.identity === alice.identity && p.connected).then(() => resolve());
      });
      const start = r.link!.channel.bytesReceived;
      return () => r.link!.channel.bytesReceived - start;
    });
    alice.close();
    roomBob.close();
    memBob.close();

    const row = (name: string, r: Run) => ({
      path: name,
      'entries/s': ENTRIES / r.seconds,
      'wire bytes/entry': r.wireBytes / ENTRIES,
      'raw bytes/entry': rawBytes / ENTRIES,
      'overhead %': (100 * (r.wireBytes - rawBytes)) / rawBytes,
      'first entry ms': r.firstEntryMs,
      'vs in-memory': `${(ENTRIES / r.seconds / (ENTRIES / memory.seconds)).toFixed(2)}×`,
    });
    printTable(`replication of ${ENTRIES.toLocaleString('en-US')} entries, peer A → peer B`, [
      row('in-memory link (baseline)', memory),
      row('through the local room (relay)', room),
    ]);
  } finally {
    await worker.stop();
  }
}
