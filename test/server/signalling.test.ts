/**
 * Messaging (docs/protocol.md §13.8 rule 13, docs/room.md §6) in workerd,
 * within a shard and across shards: message_to reaches a target that takes
 * messages from the sender, and answers the same not_present, byte for
 * byte, for a target that is absent and for one that does not.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyPair } from '../../src/protocol/index.ts';
import { allow, visibility, type Session } from '../support/room-client.ts';
import { entry, join, keysAt, leaveAll, roomName, settleRooms, SHARDS } from './room-helpers.ts';

afterAll(settleRooms);

/** Two sessions that allow each other, homed at `shardA` and `shardB`. */
async function pair(room: string, shardA = 0, shardB = 0): Promise<[Session, Session]> {
  const a = await join(room, { keys: await keysAt(shardA) });
  const b = await join(room, { keys: await keysAt(shardB) });
  await allow(a.client, [b.identity]);
  await allow(b.client, [a.identity]);
  return [a, b];
}

describe('messaging', () => {
  it("delivers message_to as message_from, with the sender's authenticated identity, within a shard and across shards", async () => {
    for (const [sa, sb] of [
      [0, 0],
      [0, 1],
    ] as const) {
      const [a, b] = await pair(roomName('relay'), sa, sb);
      const payload = { webrtc: 'offer', sdp: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n', n: [1, 2, 3] };
      a.client.send({ type: 'message_to', to: b.identity, payload });
      const got = await b.client.next('message_from');
      expect(got).toEqual({ type: 'message_from', from: a.identity, payload });
      // With an id, the sender hears ok.
      b.client.send({ type: 'message_to', id: 'x', to: a.identity, payload: 'answer' });
      await b.client.next('ok', (m) => m.re === 'x');
      expect((await a.client.next('message_from')).payload).toBe('answer');
      await leaveAll([a, b]);
    }
  });

  it('carries messages around a ring of every shard, in order', async () => {
    const room = roomName('ring');
    const sessions: Session[] = [];
    for (let shard = 0; shard < SHARDS; shard++) sessions.push(await join(room, { keys: await keysAt(shard) }));
    for (const s of sessions) await visibility(s.client, false, true);
    for (const [i, s] of sessions.entries()) {
      const next = sessions[(i + 1) % sessions.length]!;
      for (let k = 0; k < 20; k++) s.client.send({ type: 'message_to', to: next.identity, payload: { k } });
    }
    for (const [i, s] of sessions.entries()) {
      const from = sessions[(i + sessions.length - 1) % sessions.length]!.identity;
      for (let k = 0; k < 20; k++) expect(await s.client.next('message_from')).toEqual({ type: 'message_from', from, payload: { k } });
    }
    await leaveAll(sessions);
  });

  it('answers a target that does not take messages from the sender exactly as an absent one, and only strangers-opt-in lets them through', async () => {
    for (const [sa, sb] of [
      [0, 0],
      [0, 1],
    ] as const) {
      const room = roomName('consent');
      const stranger = await join(room, { keys: await keysAt(sa) });
      const targetKeys: KeyPair = await keysAt(sb);
      const target = await join(room, { keys: targetKeys });
      const friend = await join(room, { keys: await keysAt(sb) });
      await allow(target.client, [friend.identity]);

      // Positive control: the friend reaches the target.
      friend.client.send({ type: 'message_to', id: 'f', to: target.identity, payload: 'hi' });
      await friend.client.next('ok', (m) => m.re === 'f');
      expect((await target.client.next('message_from')).from).toBe(friend.identity);

      // The stranger, with the target present: the same frame as when the target is gone.
      stranger.client.send({ type: 'message_to', id: 'q', to: target.identity, payload: 'hello?' });
      const whilePresent = await stranger.client.error('q');
      target.client.close();
      await target.client.closed;
      // Poll until the room has seen the target go (the friend's messages stop reaching it).
      for (let tries = 0; tries < 50; tries++) {
        friend.client.send({ type: 'message_to', id: `p${tries}`, to: targetKeys.identity, payload: 'still?' });
        if ((await friend.client.answer(`p${tries}`)).type === 'error') break;
      }
      stranger.client.send({ type: 'message_to', id: 'q', to: targetKeys.identity, payload: 'hello?' });
      const whileAbsent = await stranger.client.error('q');
      expect(whilePresent).toEqual(whileAbsent);
      expect(whilePresent).toEqual({ type: 'error', re: 'q', code: 'not_present', message: `${targetKeys.identity} is not in this room` });
      expect(target.client.inbox.some((m) => m.type === 'message_from' && m.from === stranger.identity)).toBe(false);

      // With the strangers opt-in, the stranger's message arrives.
      const back = await join(room, { keys: targetKeys });
      await visibility(back.client, false, true);
      stranger.client.send({ type: 'message_to', id: 's', to: targetKeys.identity, payload: 'hello!' });
      await stranger.client.next('ok', (m) => m.re === 's');
      expect((await back.client.next('message_from')).from).toBe(stranger.identity);
      await leaveAll([stranger, friend, back]);
    }
  });

  it('answers not_present for an identity with no socket here', async () => {
    const a = await join(roomName('absent'));
    const nobody = await generateKeyPair();
    a.client.send({ type: 'message_to', id: 'q', to: nobody.identity, payload: 1 });
    const err = await a.client.error('q');
    expect(err.code).toBe('not_present');
    expect(err.message).toContain(nobody.identity);
    a.client.close();
  });

  it("reaches every socket of the target, and the sender's other tabs, never the sender itself", async () => {
    const room = roomName('fanout');
    const keys = await generateKeyPair();
    const t1 = await join(room, { keys });
    const t2 = await join(room, { keys });
    const other = await join(room);
    await allow(t1.client, [other.identity]);
    other.client.send({ type: 'message_to', to: keys.identity, payload: 'both' });
    expect((await t1.client.next('message_from')).payload).toBe('both');
    expect((await t2.client.next('message_from')).payload).toBe('both');
    t1.client.send({ type: 'message_to', id: 'self', to: keys.identity, payload: 'tab' });
    expect((await t2.client.next('message_from')).from).toBe(keys.identity);
    await t1.client.next('ok', (m) => m.re === 'self');
    expect(t1.client.inbox.some((m) => m.type === 'message_from')).toBe(false);
    // Alone, a socket messaging its own identity finds no one.
    t2.client.close();
    await t2.client.closed;
    t1.client.send({ type: 'message_to', id: 'alone', to: keys.identity, payload: '?' });
    expect((await t1.client.error('alone')).code).toBe('not_present');
    await leaveAll([t1, other]);
  });

  it('refuses a payload over 48 KiB and a missing payload (bad_schema)', async () => {
    const [a, b] = await pair(roomName('big'));
    a.client.send({ type: 'message_to', id: 'big', to: b.identity, payload: 'x'.repeat(49 * 1024) });
    expect((await a.client.error('big')).code).toBe('bad_schema');
    a.client.send({ type: 'message_to', id: 'none', to: b.identity });
    expect((await a.client.error('none')).code).toBe('bad_schema');
    // Just under the limit passes.
    a.client.send({ type: 'message_to', to: b.identity, payload: 'y'.repeat(48 * 1024 - 2) });
    expect(((await b.client.next('message_from')).payload as string).length).toBe(48 * 1024 - 2);
    await leaveAll([a, b]);
  });
});

describe('presence claims', () => {
  it("takes a client's online as a new head claim, for its own identity only", async () => {
    const room = roomName('online');
    const a = await join(room);
    const b = await join(room);
    const head = (await entry(b.keys, 77)).hash;
    b.client.send({ type: 'online', id: 'o1', identity: b.identity, head });
    await b.client.next('ok', (m) => m.re === 'o1');
    b.client.send({ type: 'online', id: 'o2', identity: a.identity, head });
    expect((await b.client.error('o2')).code).toBe('forbidden');
    await leaveAll([a, b]);
  });
});
