import { afterAll, describe, expect, it } from 'vitest';
import { ROOM_LIMITS } from '../../src/server/room/limits.ts';
import { RoomClient, until } from '../support/room-client.ts';
import { join, leaveAll, open, roomName, urlOf, settleRooms } from './room-helpers.ts';
import { exports } from 'cloudflare:workers';

afterAll(settleRooms);

describe('bad frames', () => {
  it('answers each malformed frame with its error and keeps the socket open', async () => {
    const s = await join(roomName('frames'));
    const cases: [string | ArrayBuffer, string][] = [
      ['{not json', 'bad_json'],
      ['[1,2]', 'bad_schema'],
      ['{"type":"teleport"}', 'unknown_type'],
      ['{"type":"message_to","to":"@nope","payload":1}', 'bad_schema'],
      ['{"type":"ping","extra":true}', 'bad_schema'],
      [new TextEncoder().encode('{"type":"ping"}').buffer as ArrayBuffer, 'bad_frame'],
      ['{"type":"presence_list","peers":[]}', 'unavailable'],
      ['{"type":"drop","target":"@x","sender":"@y","entry":""}', 'bad_schema'],
    ];
    for (const [frame, code] of cases) {
      s.client.ws.send(frame as string);
      expect((await s.client.error()).code, String(frame)).toBe(code);
    }
    // The id of a frame that failed its schema comes back as re.
    s.client.send('{"type":"get_heads","id":"q","identities":"all"}');
    expect((await s.client.error('q')).code).toBe('bad_schema');
    // A message the room only sends is not answered when a client sends it.
    s.client.send({ type: 'drop_delivery', id: 'fd', drops: [] });
    expect((await s.client.error('fd')).code).toBe('unavailable');
    expect(s.client.isClosed).toBe(false);
    s.client.close();
  });

  it('closes a socket after repeated errors (1008)', async () => {
    const s = await join(roomName('strikes'));
    for (let i = 0; i < ROOM_LIMITS.maxErrors; i++) s.client.send('garbage');
    expect((await s.client.closed).code).toBe(1008);
    expect(s.client.inbox.filter((m) => m.type === 'error')).toHaveLength(ROOM_LIMITS.maxErrors);
  });

  it('closes a socket that sends a frame over 64 KiB (too_big, 1009)', async () => {
    const s = await join(roomName('huge'));
    s.client.send(JSON.stringify({ type: 'ping', id: 'x'.repeat(70 * 1024) }));
    expect((await s.client.error()).code).toBe('too_big');
    expect((await s.client.closed).code).toBe(1009);
  });

  it('also checks frames before authentication', async () => {
    const client = await open(roomName('preauth-big'));
    await client.next('session_request');
    client.send('x'.repeat(65 * 1024));
    expect((await client.closed).code).toBe(1009);
  });
});

describe('rate limit', () => {
  it('drops frames over the rate with rate_limited, then closes a socket that keeps going (4008)', async () => {
    const s = await join(roomName('flood'));
    let sent = 0;
    while (!s.client.isClosed && sent < 5000) {
      for (let i = 0; i < 50; i++) s.client.send({ type: 'ping', id: `p${sent++}` });
      await new Promise((r) => setTimeout(r, 1));
    }
    expect((await s.client.closed).code).toBe(4008);
    const pongs = s.client.inbox.filter((m) => m.type === 'pong').length;
    const limited = s.client.inbox.filter((m) => m.type === 'error' && m.code === 'rate_limited').length;
    // The burst went through (plus what refilled meanwhile); then it was refused until the close.
    expect(pongs).toBeGreaterThanOrEqual(ROOM_LIMITS.rateBurst);
    expect(limited).toBe(ROOM_LIMITS.maxDroppedFrames);
  });

  it('lets a socket that stays under the close threshold carry on', async () => {
    const s = await join(roomName('burst'));
    // The burst and then some: fewer refusals than it takes to be closed, however fast the room drains them.
    const n = ROOM_LIMITS.rateBurst + ROOM_LIMITS.maxDroppedFrames - 1;
    for (let i = 0; i < n; i++) s.client.send({ type: 'ping', id: `p${i}` });
    await until(() => s.client.inbox.length >= n, 10_000, 'an answer to every ping');
    const pongs = s.client.inbox.filter((m) => m.type === 'pong').length;
    const limited = s.client.inbox.filter((m) => m.type === 'error' && m.code === 'rate_limited').length;
    expect(pongs + limited).toBe(n);
    expect(pongs).toBeGreaterThanOrEqual(ROOM_LIMITS.rateBurst);
    // Time for tokens to refill is what this tests (a socket is not punished for good): the wait is
    // the behaviour under test, ten tokens' worth, and the assertions after it are positive.
    await new Promise((r) => setTimeout(r, (10 * 1000) / ROOM_LIMITS.ratePerSecond));
    s.client.send({ type: 'ping', id: 'later' });
    await s.client.next('pong', (m) => m.re === 'later');
    expect(s.client.isClosed).toBe(false);
    s.client.close();
  }, 15_000);
});

describe('isolation', () => {
  it('one bad client never disturbs the others', async () => {
    const room = roomName('isolation');
    const a = await join(room);
    const b = await join(room);
    const bad = await join(room);
    await a.client.next('online');
    // The bad client floods: garbage, over-rate spam, an oversized frame at the end.
    for (let i = 0; i < 300; i++) bad.client.send(i % 4 ? { type: 'message_to', to: a.identity, payload: 'spam' } : 'garbage');
    // Meanwhile A and B keep talking.
    for (let i = 0; i < 10; i++) {
      a.client.send({ type: 'message_to', id: `m${i}`, to: b.identity, payload: i });
      expect((await b.client.next('message_from', (m) => m.from === a.identity, 10_000)).payload).toBe(i);
      b.client.send({ type: 'message_to', to: a.identity, payload: `re ${i}` });
      expect((await a.client.next('message_from', (m) => m.from === b.identity, 10_000)).payload).toBe(`re ${i}`);
    }
    expect([1008, 4008]).toContain((await bad.client.closed).code);
    expect((await a.client.next('presence_list', (m) => !!m.offline?.length, 10_000)).offline![0]).toBe(bad.identity);
    expect((await b.client.next('presence_list', (m) => !!m.offline?.length, 10_000)).offline![0]).toBe(bad.identity);
    // A got the spam that was valid, as it should, and no error of any kind.
    expect(a.client.inbox.filter((m) => m.type === 'error')).toEqual([]);
    expect(a.client.isClosed || b.client.isClosed).toBe(false);
    await leaveAll([a, b]);
  }, 30_000);
});

describe('connection cap', () => {
  it(`refuses the ${ROOM_LIMITS.maxConnections + 1}th socket of a room with 4029`, async () => {
    const room = roomName('full');
    const clients: RoomClient[] = [];
    for (let i = 0; i < ROOM_LIMITS.maxConnections; i += 64) {
      clients.push(...(await Promise.all(Array.from({ length: Math.min(64, ROOM_LIMITS.maxConnections - i) }, () => open(room)))));
    }
    const res = await exports.default.fetch(urlOf(room), { headers: { Upgrade: 'websocket' } });
    const ws = res.webSocket!;
    const refused = new RoomClient(ws);
    ws.accept();
    const err = await refused.error();
    expect(err.code).toBe('unavailable');
    expect(err.message).toMatch(/at most 512/);
    expect((await refused.closed).code).toBe(4029);
    // A socket leaving makes room again, once the room has run its close event: poll for that, with a deadline.
    const leaving = clients.pop()!;
    leaving.close();
    await leaving.closed;
    const admitted = async (): Promise<RoomClient | null> => {
      const c = await open(room);
      return c.next('session_request').then(
        () => c,
        () => null,
      );
    };
    const deadline = Date.now() + 5000;
    let again = await admitted();
    while (!again) {
      if (Date.now() > deadline) throw new Error('a socket left, but the room still refuses newcomers');
      again = await admitted();
    }
    for (const c of [...clients, again]) c.close();
    await Promise.all([...clients, again].map((c) => c.closed));
  }, 30_000);
});
