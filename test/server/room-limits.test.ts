import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { generateKeyPair, LIMITS, type Identity } from '../../src/protocol/index.ts';
import { ROOM_LIMITS, roomShards, TokenBucket, WindowCounter } from '../../src/server/room/limits.ts';
import { ROOM_DEFAULTS } from '../../src/server/room/settings.ts';
import { parseShardName, shardName, shardOf } from '../../src/server/room/shards.ts';

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
  it("hold the capacity model's hot room (10k members) over the default shards with half again to spare", () => {
    expect(ROOM_DEFAULTS.ROOM_MAX_SOCKETS * roomShards({ ROOM_SHARDS: '*=1,main=8' }, 'main')).toBeGreaterThanOrEqual(15_000);
    expect(roomShards(env, 'any')).toBeGreaterThanOrEqual(2);
  });

  it('keep a full presence_list frame under the frame limit, and a full watch list within the rate burst', () => {
    const peer = { identity: `@${'A'.repeat(43)}`, head: `&${'A'.repeat(43)}` };
    const frame = JSON.stringify({ type: 'presence_list', peers: Array(ROOM_LIMITS.listChunk).fill(peer) });
    expect(frame.length).toBeLessThan(LIMITS.frameBytes);
    const frames = Math.ceil(ROOM_LIMITS.maxWatch / LIMITS.listItems);
    expect(frames * (1 + LIMITS.listItems / ROOM_LIMITS.itemsPerToken)).toBeLessThanOrEqual(ROOM_LIMITS.rateBurst);
  });

  it('read ROOM_SHARDS as one count, or counts by room name with * for the rest, and refuse anything else', () => {
    expect(roomShards({}, 'main')).toBe(ROOM_LIMITS.defaultShards);
    expect(roomShards({ ROOM_SHARDS: '1' }, 'main')).toBe(1);
    expect(roomShards({ ROOM_SHARDS: String(ROOM_LIMITS.maxShards) }, 'x')).toBe(ROOM_LIMITS.maxShards);
    const byName = { ROOM_SHARDS: '*=1, main=8,lobby=4' };
    expect([roomShards(byName, 'main'), roomShards(byName, 'lobby'), roomShards(byName, 'small')]).toEqual([8, 4, 1]);
    expect(roomShards({ ROOM_SHARDS: 'main=8' }, 'small')).toBe(1);
    for (const bad of ['0', '-1', '2.5', 'eight', String(ROOM_LIMITS.maxShards + 1), 'main=0', 'main', 'a b=2', '*=1=2', 'main=x']) {
      expect(() => roomShards({ ROOM_SHARDS: bad }, 'main'), bad).toThrow(/ROOM_SHARDS/);
    }
  });
});

describe('shards', () => {
  it("compute an identity's home from its key's first four bytes, spread evenly", async () => {
    const counts = Array(8).fill(0) as number[];
    for (let i = 0; i < 800; i++) counts[shardOf((await generateKeyPair()).identity, 8)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(50);
    // The rule itself, on key a of the protocol's vectors: its first bytes d7 5a 98 01 are 3613038593.
    const a = '@11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' as Identity;
    expect(shardOf(a, 1000)).toBe(3613038593 % 1000);
    expect(shardOf(a, 8)).toBe(1);
    expect(shardOf(a, 1)).toBe(0);
    expect(parseShardName(shardName('main', 3))).toEqual({ room: 'main', shard: 3 });
    expect(parseShardName('main')).toBeNull();
  });
});
