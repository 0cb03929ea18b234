import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type Hash, type Identity } from '../../src/protocol/index.ts';
import type { Session } from '../support/room-client.ts';
import { entry, join, leaveAll, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

describe('presence', () => {
  it('gives each newcomer the presence list and tells everyone else it is online (20 clients)', async () => {
    const room = roomName('crowd');
    const sessions: Session[] = [];
    const claimed = new Map<Identity, Hash | null>();
    for (let i = 0; i < 20; i++) {
      const keys = await generateKeyPair();
      const head = i % 2 === 0 ? null : (await entry(keys, 1000 + i)).hash;
      const s = await join(room, { keys, head });
      // The newcomer sees exactly those already present, with the heads they claimed.
      expect(new Map(s.peers.map((p) => [p.identity, p.head]))).toEqual(claimed);
      claimed.set(keys.identity, head);
      sessions.push(s);
    }
    // Client i saw `online` for every later client, with its claimed head.
    for (let i = 0; i < sessions.length; i++) {
      for (const later of sessions.slice(i + 1)) {
        const online = await sessions[i]!.client.next('online', (m) => m.identity === later.identity);
        expect(online.head).toBe(claimed.get(later.identity));
      }
      expect(sessions[i]!.client.inbox.filter((m) => m.type === 'online')).toEqual([]);
    }
    // One leaves: the other 19 hear offline.
    const gone = sessions.pop()!;
    gone.client.close();
    for (const s of sessions) expect((await s.client.next('presence_list', (m) => !!m.offline?.length)).offline![0]).toBe(gone.identity);
    await leaveAll(sessions);
  });

  it('counts an identity once across its sockets: online on the first, offline after the last', async () => {
    const room = roomName('tabs');
    const watcher = await join(room);
    const keys = await generateKeyPair();
    const tab1 = await join(room, { keys });
    expect((await watcher.client.next('online')).identity).toBe(keys.identity);
    const tab2 = await join(room, { keys });
    // Same identity, same head: nothing new to announce; the tab sees the watcher but not itself.
    expect(tab2.peers.map((p) => p.identity)).toEqual([watcher.identity]);
    // A marker joins next: the room tells the watcher in order, so the next `online` it gets is
    // the marker's, and any for the second tab would have come before it.
    const marker = await join(room);
    expect((await watcher.client.next('online')).identity).toBe(marker.identity);
    tab1.client.close();
    await tab1.client.closed;
    // Likewise for leaving: the marker leaves after the first tab; the next `offline` is the marker's.
    marker.client.close();
    expect((await watcher.client.next('presence_list', (m) => !!m.offline?.length)).offline![0]).toBe(marker.identity);
    tab2.client.close();
    expect((await watcher.client.next('presence_list', (m) => !!m.offline?.length)).offline![0]).toBe(keys.identity);
    watcher.client.close();
  });

  it('announces a second socket of an identity that comes with a new head', async () => {
    const room = roomName('tabs-head');
    const watcher = await join(room);
    const keys = await generateKeyPair();
    const tab1 = await join(room, { keys });
    await watcher.client.next('online');
    const head = (await entry(keys, 5000)).hash;
    const tab2 = await join(room, { keys, head });
    expect((await watcher.client.next('online')).head).toBe(head);
    // A later newcomer sees the newest claim.
    const late = await join(room);
    expect(late.peers.find((p) => p.identity === keys.identity)?.head).toBe(head);
    await leaveAll([watcher, tab1, tab2, late]);
  });

  it('lets several devices of one synod be present at once', async () => {
    const room = roomName('synod');
    const synod = await generateKeyPair();
    const synodHead = (await entry(synod, 1)).hash;
    const phone = await generateKeyPair();
    const laptop = await generateKeyPair();
    const p = await join(room, { keys: phone, head: (await entry(phone, 10, null, [synod.identity, synodHead])).hash });
    const l = await join(room, { keys: laptop, head: (await entry(laptop, 10, null, [synod.identity, synodHead])).hash });
    expect(l.peers.map((x) => x.identity)).toEqual([phone.identity]);
    expect((await p.client.next('online')).identity).toBe(laptop.identity);
    await leaveAll([p, l]);
  });

  it("takes a client's online as a new head claim, for its own identity only", async () => {
    const room = roomName('online');
    const a = await join(room);
    const b = await join(room);
    await a.client.next('online');
    const head = (await entry(b.keys, 77)).hash;
    b.client.send({ type: 'online', id: 'o1', identity: b.identity, head });
    await b.client.next('ok', (m) => m.re === 'o1');
    expect((await a.client.next('online')).head).toBe(head);
    b.client.send({ type: 'online', id: 'o2', identity: a.identity, head });
    expect((await b.client.error('o2')).code).toBe('forbidden');
    await leaveAll([a, b]);
  });
});

describe('messaging', () => {
  it("delivers message_to as message_from, with the sender's authenticated identity", async () => {
    const room = roomName('relay');
    const a = await join(room);
    const b = await join(room);
    const payload = { webrtc: 'offer', sdp: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n', n: [1, 2, 3] };
    a.client.send({ type: 'message_to', to: b.identity, payload });
    const got = await b.client.next('message_from');
    expect(got).toEqual({ type: 'message_from', from: a.identity, payload });
    // With an id, the sender hears ok.
    b.client.send({ type: 'message_to', id: 'x', to: a.identity, payload: 'answer' });
    await b.client.next('ok', (m) => m.re === 'x');
    expect((await a.client.next('message_from')).payload).toBe('answer');
    await leaveAll([a, b]);
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
    const room = roomName('big');
    const a = await join(room);
    const b = await join(room);
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
