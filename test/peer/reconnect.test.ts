/**
 * Reconnecting after a room restart: every socket is closed at once (a
 * deploy), and the clients must not all come back in the same instant. The
 * schedule (backoff.ts) alone, then real room clients against the room in
 * memory, with partysocket's old fixed schedule as the positive control.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BACKOFF, reconnectDelay } from '../../src/peer/backoff.ts';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Replica } from '../../src/peer/replica.ts';
import { RoomClient } from '../../src/peer/room-client.ts';
import { generateKeyPair } from '../../src/protocol/index.ts';
import { eventually } from './helpers.ts';
import { MemoryRoom } from './memory-room.ts';

/** A seeded generator (mulberry32), so the schedule's numbers are the same every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The most arrivals in any `width` ms window. */
function busiest(times: readonly number[], width: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= width) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('the backoff schedule', () => {
  it('dials at once the first time, then waits a random time under a cap that doubles up to maxMs', () => {
    const random = seeded(1);
    expect(reconnectDelay(0, random)).toBe(0);
    for (let attempt = 1; attempt < 12; attempt++) {
      const cap = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const d = reconnectDelay(attempt, random);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(cap);
      }
    }
    expect(reconnectDelay(1, () => 0.999999)).toBe(BACKOFF.baseMs - 1);
    expect(reconnectDelay(40, () => 0.999999)).toBe(BACKOFF.maxMs - 1);
  });

  it('spreads 2,000 clients dropped together over the whole first window', () => {
    const random = seeded(7);
    const first = Array.from({ length: 2000 }, () => reconnectDelay(1, random));
    // Even spread: 2,000 over 2 s is 100 per 100 ms; allow the noise of a uniform draw.
    expect(busiest(first, 100)).toBeLessThanOrEqual(140);
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(1900);
    // Positive control: partysocket's schedule as this client had it (a fixed first delay per
    // client, 250-750 ms) puts the same 2,000 into a quarter of the time.
    const old = Array.from({ length: 2000 }, () => 250 + random() * 500);
    expect(busiest(old, 100)).toBeGreaterThan(300);
  });
});

describe('room clients after a restart', { timeout: 30_000 }, () => {
  const clients: { client: RoomClient; identity: string; draws: number[] }[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.client.close();
  });

  /** `n` clients, each with its own random source whose draws are kept (the backoff draws once per retry). */
  async function connectAll(room: MemoryRoom, n: number, source: (i: number) => () => number): Promise<void> {
    const replica = await Replica.open(new MemoryStore());
    for (let i = 0; i < n; i++) {
      const keys = await generateKeyPair();
      const draws: number[] = [];
      const rng = source(i);
      const random = () => {
        const r = rng();
        draws.push(r);
        return r;
      };
      const client = new RoomClient({
        url: room.url,
        keys,
        replica,
        provides: [],
        head: async () => null,
        WebSocket: room.WebSocket,
        random,
      });
      clients.push({ client, identity: keys.identity, draws });
    }
    await eventually(() => clients.every((c) => c.client.status === 'online'), 10_000, 'every client online');
  }

  /**
   * Restart the room and wait until every client is back. Answers each
   * client's drawn wait, having checked it dialled again once, and not
   * before that wait (timers never fire early, so this holds however busy
   * the machine is).
   */
  async function restart(room: MemoryRoom): Promise<number[]> {
    const before = room.dials.length;
    const at = performance.now();
    room.restart();
    await eventually(
      () => clients.every((c) => c.client.status === 'online') && room.dials.length >= before + clients.length,
      15_000,
      'every client back',
    );
    const dials = room.dials.slice(before);
    return clients.map(({ identity, draws }) => {
      const mine = dials.filter((d) => new URL(d.url).searchParams.get('identity') === identity);
      expect(mine).toHaveLength(1);
      expect(draws).toHaveLength(1); // the first dial went at once; the restart cost one retry
      const wait = reconnectDelay(1, () => draws[0]!);
      expect(mine[0]!.at - at).toBeGreaterThanOrEqual(wait - 1);
      return wait;
    });
  }

  it('every client comes back once, none before its own random wait, and the waits spread over the window', async () => {
    const room = new MemoryRoom();
    await connectAll(room, 40, (i) => seeded(100 + i));
    const waits = await restart(room);
    expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThan(BACKOFF.baseMs / 2);
    expect(busiest(waits, 100)).toBeLessThanOrEqual(10);
  });

  it('positive control: with no jitter every client waits the same, so all come back in the same instant', async () => {
    const room = new MemoryRoom();
    await connectAll(room, 40, () => () => 0.5);
    expect(busiest(await restart(room), 100)).toBe(40);
  });
});
