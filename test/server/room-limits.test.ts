import { describe, expect, it } from 'vitest';
import { ROOM_LIMITS, TokenBucket, WindowCounter } from '../../src/server/room/limits.ts';

describe('token bucket', () => {
  it('allows the burst at once, then the sustained rate', () => {
    const bucket = new TokenBucket(ROOM_LIMITS.ratePerSecond, ROOM_LIMITS.rateBurst, 0);
    let allowed = 0;
    for (let i = 0; i < 1000; i++) if (bucket.take(0)) allowed++;
    expect(allowed).toBe(ROOM_LIMITS.rateBurst);
    // One second later: rate tokens more, never above the burst.
    allowed = 0;
    for (let i = 0; i < 1000; i++) if (bucket.take(1000)) allowed++;
    expect(allowed).toBe(ROOM_LIMITS.ratePerSecond);
    allowed = 0;
    for (let i = 0; i < 1000; i++) if (bucket.take(60_000)) allowed++;
    expect(allowed).toBe(ROOM_LIMITS.rateBurst);
  });

  it('sustains exactly the rate over time', () => {
    const bucket = new TokenBucket(50, 100, 0);
    let allowed = 0;
    // 10 s of one frame per millisecond (1000/s): 100 burst + 50/s × 10 s.
    for (let t = 0; t < 10_000; t++) if (bucket.take(t)) allowed++;
    expect(allowed).toBeGreaterThanOrEqual(598);
    expect(allowed).toBeLessThanOrEqual(600);
  });
});

describe('window counter', () => {
  it('counts within a window and starts over after it', () => {
    const c = new WindowCounter(10_000);
    expect(c.hit(0)).toBe(1);
    expect(c.hit(9_999)).toBe(2);
    expect(c.hit(10_000)).toBe(1);
  });
});

describe('limits', () => {
  it('let the N=500 bench into one room, and keep a full presence list in two frames', () => {
    expect(ROOM_LIMITS.maxConnections).toBeGreaterThanOrEqual(500);
    expect(Math.ceil((ROOM_LIMITS.maxConnections - 1) / ROOM_LIMITS.listChunk)).toBeLessThanOrEqual(2);
  });
});
