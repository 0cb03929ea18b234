import { afterAll, describe, expect, it } from 'vitest';
import { ROOM_LIMITS } from '../../src/server/room/limits.ts';
import { generateKeyPair, LIMITS, type Identity } from '../../src/protocol/index.ts';
import { allow, until, visibility, watch } from '../support/room-client.ts';
import { identityAt, join, keysAt, leaveAll, open, roomName, SHARDS, settleRooms } from './room-helpers.ts';

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
      // Issue 14 item 10: 24,000 levels inside a message_to were accepted and relayed.
      [`{"type":"message_to","to":"${s.identity}","payload":${'['.repeat(24_000)}${']'.repeat(24_000)}}`, 'bad_schema'],
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
    // Every answer names its request, refusals too (read from the frame's first bytes, unparsed): a client
    // knows which request to send again, and does not wait for a timeout.
    const answered = new Set(s.client.inbox.map((m) => ('re' in m ? m.re : undefined)));
    expect(Array.from({ length: n }, (_, i) => `p${i}`).filter((id) => !answered.has(id))).toEqual([]);
    // Time for tokens to refill is what this tests (a socket is not punished for good): the wait is
    // the behaviour under test, ten tokens' worth, and the assertions after it are positive.
    await new Promise((r) => setTimeout(r, (10 * 1000) / ROOM_LIMITS.ratePerSecond));
    s.client.send({ type: 'ping', id: 'later' });
    await s.client.next('pong', (m) => m.re === 'later');
    expect(s.client.isClosed).toBe(false);
    s.client.close();
  }, 15_000);
});

describe('watch lists and allow-lists', () => {
  const names = (n: number, shard = 0): Identity[] => Array.from({ length: n }, () => identityAt(shard));

  it(`refuses a watch list or allow-list past ${ROOM_LIMITS.maxWatch} identities with quota, changing nothing`, async () => {
    const room = roomName('quota');
    const s = await join(room);
    const many = names(ROOM_LIMITS.maxWatch, 1 % SHARDS);
    // Positive control: up to the limit, in frames of listItems, is accepted.
    for (let i = 0; i < many.length; i += LIMITS.listItems) await watch(s.client, many.slice(i, i + LIMITS.listItems));
    s.client.send({ type: 'watch', id: 'over', add: [identityAt(2 % SHARDS)], remove: [] });
    const err = await s.client.error('over');
    expect(err.code).toBe('quota');
    expect(err.message).toContain(String(ROOM_LIMITS.maxWatch));
    // Nothing changed: removing one makes room for exactly one.
    await watch(s.client, [identityAt(2 % SHARDS)], [many[0]!]);
    // The same for an allow-list (another session: the frames above spent most of this one's rate burst).
    const t = await join(room);
    for (let i = 0; i < ROOM_LIMITS.maxAllow; i += LIMITS.listItems) await allow(t.client, many.slice(i, i + LIMITS.listItems));
    t.client.send({ type: 'allow', id: 'over2', add: [(await generateKeyPair()).identity] });
    expect((await t.client.error('over2')).code).toBe('quota');
    await allow(t.client, [(await generateKeyPair()).identity], [many[0]!]);
    await leaveAll([s, t]);
  }, 60_000);

  it('weighs a watch or allow frame by its length against the rate limit', async () => {
    const room = roomName('weight');
    const s = await join(room);
    const full = names(LIMITS.listItems, 1 % SHARDS);
    // A full frame costs 1 + 512/64 = 9 tokens: the burst of 100 takes 11 of them, not 100. Thirty of them
    // leave room for what a busy shard's backlog allowance adds (limits.ts, LagProbe).
    for (let i = 0; i < 30; i++) s.client.send({ type: 'watch', id: `w${i}`, add: i % 2 ? full : [], remove: i % 2 ? [] : full });
    // A frame refused before it is read is answered without re.
    const accepted = () => s.client.inbox.filter((m) => m.type === 'ok').length;
    const limited = () => s.client.inbox.filter((m) => m.type === 'error' && m.code === 'rate_limited').length;
    await until(() => accepted() + limited() >= 30, 20_000, 'an answer to each watch');
    expect(accepted() + limited()).toBe(30);
    expect(limited()).toBeGreaterThan(0);
    // Positive control: small frames at the same pace are all taken.
    const t = await join(room);
    for (let i = 0; i < 14; i++) t.client.send({ type: 'watch', id: `x${i}`, add: [full[i]!] });
    for (let i = 0; i < 14; i++) expect((await t.client.answer(`x${i}`)).type).toBe('ok');
    await leaveAll([s, t]);
    // Fourteen frames of 512 names subscribe across shards: seconds on a loaded machine.
  }, 30_000);
});

describe('isolation', () => {
  it('one bad client never disturbs the others', async () => {
    const room = roomName('isolation');
    const a = await join(room, { keys: await keysAt(0) });
    const b = await join(room, { keys: await keysAt(1 % SHARDS) });
    const bad = await join(room, { keys: await keysAt(0) });
    await allow(a.client, [b.identity, bad.identity]);
    await allow(b.client, [a.identity]);
    await visibility(bad.client, true);
    for (const s of [a, b]) await watch(s.client, [bad.identity]);
    await until(() => a.client.present.has(bad.identity) && b.client.present.has(bad.identity), 5000, 'both to see the bad client');
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
    await until(() => !a.client.present.has(bad.identity) && !b.client.present.has(bad.identity), 10_000, 'both to see it go');
    // A got the spam that was valid, as it should, and no error of any kind.
    expect(a.client.inbox.filter((m) => m.type === 'error')).toEqual([]);
    expect(a.client.isClosed || b.client.isClosed).toBe(false);
    await leaveAll([a, b]);
  }, 30_000);
});
