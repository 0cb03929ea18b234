/**
 * Issue 14 item 6: one identity with many sockets sending message_to to
 * itself turned 4.7 MiB in into 296 MiB out, and requests were weighed by
 * frame count, not by the work they cause.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, LIMITS, type Identity } from '../../src/protocol/index.ts';
import { extraWeight } from '../../src/server/room/dispatch.ts';
import { ROOM_LIMITS, TokenBucket } from '../../src/server/room/limits.ts';
import { roomSettings } from '../../src/server/room/settings.ts';
import { allow, until, type Session } from '../support/room-client.ts';
import { identityAt, join, leaveAll, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

const settings = roomSettings(env);
const payload = 'x'.repeat(40 * 1024);

describe('amplification', () => {
  it(`bounds what one identity's message_to to itself sends out: ${settings.socketsPerIdentity} sockets, copies charged to the sender`, async () => {
    const room = roomName('amp');
    const keys = await generateKeyPair();
    const mine: Session[] = [];
    // The attack opened 64 sockets; only socketsPerIdentity get in.
    for (let i = 0; i < 64; i++) {
      const s = await join(room, { keys }).catch(() => null);
      if (s) mine.push(s);
    }
    expect(mine).toHaveLength(settings.socketsPerIdentity);
    const [sender, ...others] = mine;
    const sent = 100;
    for (let i = 0; i < sent; i++) sender!.client.send({ type: 'message_to', id: `m${i}`, to: keys.identity, payload });
    await until(() => sender!.client.isClosed || sender!.client.inbox.filter((m) => m.re !== undefined).length >= sent, 20_000, 'answers');
    const copies = others.reduce((n, s) => n + s.client.inbox.filter((m) => m.type === 'message_from').length, 0);
    const relayed = copies / others.length;
    // Each message to the 7 others costs 1 + ⌊40 KiB × 6 / 16 KiB⌋ tokens: the burst pays for a handful.
    expect(relayed).toBeLessThan(sent / 4);
    expect(sender!.client.inbox.some((m) => m.type === 'error' && m.code === 'rate_limited')).toBe(true);
    await leaveAll(mine.filter((s) => !s.client.isClosed));
  }, 60_000);

  it('positive control: the same messages to an identity with one socket are all relayed', async () => {
    const room = roomName('amp-control');
    const a = await join(room);
    const b = await join(room);
    await allow(b.client, [a.identity]);
    const sent = 60;
    for (let i = 0; i < sent; i++) a.client.send({ type: 'message_to', id: `m${i}`, to: b.identity, payload });
    await until(() => b.client.inbox.filter((m) => m.type === 'message_from').length >= sent, 20_000, 'every message');
    expect(a.client.inbox.filter((m) => m.type === 'error')).toEqual([]);
    await leaveAll([a, b]);
  }, 30_000);
});

describe('weights', () => {
  it('weighs requests by the rows they read, not by frames', async () => {
    const room = roomName('weights');
    const s = await join(room);
    const many = Array.from({ length: LIMITS.listItems }, () => identityAt(1));
    /** Sends n get_heads at once; answers how many were refused (a frame refused before it is read has no re). */
    const ask = async (identities: Identity[], n: number, tag: string) => {
      const before = s.client.inbox.length;
      for (let i = 0; i < n; i++) s.client.send({ type: 'get_heads', id: `${tag}${i}`, identities });
      const mine = () => s.client.inbox.slice(before);
      const refused = () => mine().filter((m) => m.type === 'error' && m.code === 'rate_limited').length;
      const answered = () => new Set(mine().flatMap((m) => (m.type === 'last_known_heads' && m.re ? [m.re] : []))).size;
      await until(() => answered() + refused() >= n || s.client.isClosed, 20_000, 'an answer or a refusal for each');
      return refused();
    };
    // 60 get_heads of 512 cost 60 × (1 + 1 + 4) tokens: past the burst of 100.
    expect(extraWeight({ type: 'get_heads', identities: many })).toBe(1 + LIMITS.listItems / ROOM_LIMITS.rowsPerToken);
    expect(await ask(many, 60, 'big')).toBeGreaterThan(0);
    // Positive control: 30 get_heads of one identity are all answered.
    const t = await join(room);
    for (let i = 0; i < 30; i++) t.client.send({ type: 'get_heads', id: `small${i}`, identities: [many[0]!] });
    for (let i = 0; i < 30; i++) expect((await t.client.next('last_known_heads', (m) => m.re === `small${i}`)).heads).toEqual([]);
    await leaveAll([s, t]);
  }, 30_000);
});

describe('backlog', () => {
  it('does not take frames that arrived at the rate, handled late together, for a burst', () => {
    const rate = ROOM_LIMITS.ratePerSecond;
    const burst = ROOM_LIMITS.rateBurst;
    // An honest client sends 80% of the rate for 6 s; the room, 6 s behind, handles them all at t = 6 s.
    const frames = Math.floor(rate * 0.8 * 6);
    const measured = (lagMs: number) => {
      const bucket = new TokenBucket(rate, burst, 0);
      let refused = 0;
      for (let i = 0; i < frames; i++) if (!bucket.take(6000, 1, lagMs)) refused++;
      return refused;
    };
    // Positive control: measured when handled, without the backlog allowed for, most are refused (and 50 refusals close the socket).
    expect(measured(0)).toBeGreaterThan(ROOM_LIMITS.maxDroppedFrames);
    expect(measured(6000)).toBe(0);
    // A flood is still a flood: twice the rate over the same backlog is refused beyond it.
    const bucket = new TokenBucket(rate, burst, 0);
    let taken = 0;
    for (let i = 0; i < rate * 2 * 6; i++) if (bucket.take(6000, 1, 6000)) taken++;
    expect(taken).toBeLessThanOrEqual(burst + rate * 6);
  });
});
