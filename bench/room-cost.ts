/**
 * What the hosted services cost in D1, measured through the room's metered
 * D1 (ROOM_STATS=1, src/server/hosted/metered-d1.ts): the peer engine itself
 * (src/peer) leaves drops for peers that are away, which then come, fetch
 * and acknowledge them; and leases its feed to the room. docs/capacity.md
 * turns these into costs per identity per month.
 */
import { MemoryStore } from '../src/peer/memory-store.ts';
import { Peer } from '../src/peer/peer.ts';
import { shardStats } from './room-effigy.ts';

export interface CostResult {
  /** D1 rows read and written to store one drop, and the D1 bytes it holds. */
  dropStore: { read: number; written: number; bytes: number };
  /** D1 rows read and written to deliver and acknowledge one drop. */
  dropCollect: { read: number; written: number };
  /** D1 rows read and written, and bytes held, per leased entry (a lease of `entries` entries). */
  leaseEntry: { read: number; written: number; bytes: number };
  entries: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function d1(base: string, room: string): Promise<{ read: number; written: number; bytes: number }> {
  const stats = ((await shardStats(base, room)) as { d1Read: number; d1Written: number; d1Bytes: number }[] | null) ?? [];
  return {
    read: stats.reduce((s, x) => s + x.d1Read, 0),
    written: stats.reduce((s, x) => s + x.d1Written, 0),
    bytes: Math.max(0, ...stats.map((x) => x.d1Bytes)),
  };
}

async function online(peer: Peer, url: string): Promise<void> {
  const room = peer.connect(url);
  if (room.status !== 'online') await room.events.once('status', (s) => s === 'online');
}

/** `peers` peers: each leaves `drops` drops for the next one while it is away; then each leases a feed of `entries` entries. */
export async function hostedCost(base: string, room: string, peers: number, drops: number, entries: number): Promise<CostResult> {
  const url = `${base.replace(/^http/, 'ws')}/room/${room}`;
  const all = await Promise.all(Array.from({ length: peers }, () => Peer.open({ store: new MemoryStore() })));
  try {
    // Drops: senders online, targets away.
    const senders = all.slice(0, peers / 2);
    const targets = all.slice(peers / 2);
    for (const s of senders) await online(s, url);
    const t0 = await d1(base, room);
    for (const [i, s] of senders.entries()) {
      for (let k = 0; k < drops; k++) await s.sendDrop(targets[i]!.identity, `drop ${k} from ${i}: ${'x'.repeat(200)}`, url);
    }
    const t1 = await d1(base, room);
    const sent = senders.length * drops;
    for (const t of targets) await online(t, url);
    await until(
      'every drop in its inbox',
      async () => (await Promise.all(targets.map((t) => t.inbox()))).every((i) => i.length === drops),
      60_000,
    );
    await sleep(1500);
    const t2 = await d1(base, room);

    // Leases: each peer posts `entries` notes and leases its feed.
    for (const p of all) for (let k = 0; k < entries; k++) await p.postNote(`note ${k}: ${'y'.repeat(200)}`);
    const t3 = await d1(base, room);
    for (const p of targets) await p.requestLease(url, 30 * 24 * 3600);
    const t4 = await d1(base, room);
    const leased = targets.length * entries;
    return {
      dropStore: { read: (t1.read - t0.read) / sent, written: (t1.written - t0.written) / sent, bytes: (t1.bytes - t0.bytes) / sent },
      dropCollect: { read: (t2.read - t1.read) / sent, written: (t2.written - t1.written) / sent },
      leaseEntry: {
        read: (t4.read - t3.read) / leased,
        written: (t4.written - t3.written) / leased,
        bytes: (t4.bytes - t3.bytes) / leased,
      },
      entries,
    };
  } finally {
    for (const p of all) p.close();
  }
}
