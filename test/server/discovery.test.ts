/** Service discovery and the one dispatch table: what any authenticated socket may send. */
import { afterAll, describe, expect, it } from 'vitest';
import { join, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

describe('service discovery', () => {
  it('grants services the room offers on request and refuses the others', async () => {
    const s = await join(roomName('svc'));
    s.client.send({ type: 'request_service', id: 'r1', service: 'voice' });
    expect((await s.client.error('r1')).code).toBe('unavailable');
    s.client.send({ type: 'request_service', id: 'r2', service: 'headtracking' });
    await s.client.next('ok', (m) => m.re === 'r2');
    expect((await s.client.next('provides', (m) => m.re === 'r2')).services).toContain('headtracking');
    // A client's own provides is recorded, not answered.
    s.client.send({ type: 'provides', services: ['blobs', 'headtracking'] });
    s.client.send({ type: 'ping', id: 'after' });
    await s.client.next('pong');
    expect(s.client.inbox.filter((m) => m.type === 'error')).toEqual([]);
    s.client.close();
  });

  it('answers a type no service handles with unavailable, and drops an answer to nothing the room asked', async () => {
    const s = await join(roomName('dispatch'));
    s.client.send({ type: 'presence_list', id: 'p', peers: [] });
    expect((await s.client.error('p')).code).toBe('unavailable');
    // A late answer (it carries re) to a request the room no longer waits for needs no answer.
    s.client.send({ type: 'entries', re: 'room-gone', identity: s.identity, entries: [] });
    s.client.send({ type: 'drop_delivery', re: 'room-gone', drops: [] });
    s.client.send({ type: 'ping', id: 'after' });
    await s.client.next('pong', (m) => m.re === 'after');
    expect(s.client.inbox.filter((m) => m.type === 'error')).toEqual([]);
    s.client.close();
  });
});
