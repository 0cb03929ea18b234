import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import { readAttachment } from '../../src/server/room/conn.ts';
import { handshake } from '../support/room-client.ts';
import { endpointOf, entry, join, leaveAll, open, roomName, stubOf, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

describe('hibernation', () => {
  it('keeps sockets, identities and presence when the object is evicted and woken', async () => {
    const room = roomName('hibernate');
    const stub = stubOf(room);
    const a = await join(room);
    const b = await join(room, { head: null });
    await a.client.next('online');
    const e = await entry(b.keys, 10);
    b.client.send({ type: 'announce', id: 'h', entry: e.text });
    await b.client.next('ok');
    await a.client.next('head');
    const boot = await runInDurableObject(stub, (r) => r.bootId);

    await evictDurableObject(stub);

    // The sockets survived; the first frame wakes a new instance that knows who is who.
    a.client.send({ type: 'message_to', id: 'm', to: b.identity, payload: 'after the nap' });
    const got = await b.client.next('message_from');
    expect(got.from).toBe(a.identity);
    expect(got.payload).toBe('after the nap');
    await a.client.next('ok', (m) => m.re === 'm');
    expect(await runInDurableObject(stub, (r) => r.bootId)).not.toBe(boot);

    // Presence was rebuilt: a newcomer sees both, with B's announced head, and both hear it arrive.
    const c = await join(room);
    expect(new Map(c.peers.map((p) => [p.identity, p.head]))).toEqual(
      new Map([
        [a.identity, null],
        [b.identity, e.hash],
      ]),
    );
    expect((await a.client.next('online')).identity).toBe(c.identity);
    expect((await b.client.next('online')).identity).toBe(c.identity);

    // Each socket's authenticated identity is in its attachment.
    const identities = await runInDurableObject(stub, (_, state) =>
      state
        .getWebSockets()
        .map((ws) => readAttachment(ws)?.identity)
        .sort(),
    );
    expect(identities).toEqual([a.identity, b.identity, c.identity].sort());

    await evictDurableObject(stub);
    b.client.close();
    expect((await a.client.next('presence_list', (m) => !!m.offline?.length)).offline![0]).toBe(b.identity);
    expect((await c.client.next('presence_list', (m) => !!m.offline?.length)).offline![0]).toBe(b.identity);
    await leaveAll([a, c]);
  });

  it('keeps a half-done handshake across an eviction', async () => {
    const room = roomName('hibernate-hs');
    const client = await open(room);
    await evictDurableObject(stubOf(room));
    // The challenge and endpoint live in the attachment, so the handshake completes on a new instance.
    const s = await handshake(client, endpointOf(room));
    expect(s.services).toContain('signalling');
    client.close();
  });

  it('still closes an unauthenticated socket after an eviction (the alarm survives)', async () => {
    const room = roomName('hibernate-timeout');
    const client = await open(room);
    await client.next('session_request');
    await evictDurableObject(stubOf(room));
    expect((await client.closed).code).toBe(4002);
  }, 15_000);
});
