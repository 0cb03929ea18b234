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
  const clients: RoomClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  async function connectAll(room: MemoryRoom, n: number, random?: () => number): Promise<void> {
    const replica = await Replica.open(new MemoryStore());
    for (let i = 0; i < n; i++) {
      const keys = await generateKeyPair();
      const client = new RoomClient({
        url: room.url,
        keys,
        replica,
        provides: [],
        head: async () => null,
        WebSocket: room.WebSocket,
        ...(random && { random }),
      });
      clients.push(client);
    }
    await eventually(() => clients.every((c) => c.status === 'online'), 10_000, 'every client online');
  }

  async function restartAndTime(room: MemoryRoom): Promise<number[]> {
    const before = room.dials.length;
    const at = performance.now();
    room.restart();
    await eventually(() => clients.every((c) => c.status === 'online') && room.dials.length >= before + clients.length, 15_000, 'all back');
    return room.dials.slice(before).map((d) => d.at - at);
  }

  it('come back spread over the backoff window, each with its identity, and all of them', async () => {
    const room = new MemoryRoom();
    await connectAll(room, 40);
    const times = await restartAndTime(room);
    expect(times).toHaveLength(40);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(BACKOFF.baseMs / 4);
    expect(busiest(times, 100)).toBeLessThanOrEqual(12);
    expect(room.dials.every((d) => new URL(d.url).searchParams.get('identity')?.startsWith('@'))).toBe(true);
  });

  it('positive control: without jitter they all come back in the same instant', async () => {
    const room = new MemoryRoom();
    await connectAll(room, 40, () => 0.5);
    const times = await restartAndTime(room);
    expect(busiest(times, 100)).toBe(40);
  });
});
