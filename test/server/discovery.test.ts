/** Service discovery and the one dispatch table: what any authenticated socket may send. */
import { afterAll, describe, expect, it } from 'vitest';
import { createEntry, generateKeyPair } from '../../src/protocol/index.ts';
import { join, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

describe('service discovery', { timeout: 20_000 }, () => {
  it('grants an on-request service only when asked (dropbox collection), and refuses a service the room does not run', async () => {
    const s = await join(roomName('svc'));
    // Not offered by default: fetch_drops is refused until the service is granted.
    expect(s.services).not.toContain('dropbox');
    expect(s.services).not.toContain('datalease');
    s.client.send({ type: 'fetch_drops', id: 'before', hashes: [] });
    expect((await s.client.error('before')).code).toBe('forbidden');
    s.client.send({ type: 'request_service', id: 'r1', service: 'voice' });
    expect((await s.client.error('r1')).code).toBe('unavailable');
    // The grant (this deployment's policy: everyone): ok, then provides with it.
    s.client.send({ type: 'request_service', id: 'r2', service: 'dropbox' });
    await s.client.next('ok', (m) => m.re === 'r2');
    expect((await s.client.next('provides', (m) => m.re === 'r2')).services).toContain('dropbox');
    s.client.send({ type: 'fetch_drops', id: 'after', hashes: [] });
    expect((await s.client.next('drop_delivery', (m) => m.re === 'after')).drops).toEqual([]);
    // Asking again for what it has is answered the same way, and changes nothing.
    s.client.send({ type: 'request_service', id: 'r3', service: 'dropbox' });
    await s.client.next('ok', (m) => m.re === 'r3');
    // A client's own provides is recorded, not answered.
    s.client.send({ type: 'provides', services: ['blobs', 'headtracking'] });
    s.client.send({ type: 'ping', id: 'after-ping' });
    await s.client.next('pong');
    expect(s.client.inbox.filter((m) => m.type === 'error')).toEqual([]);
    s.client.close();
  });

  it('leaves drop open to a socket that was not granted the dropbox: strangers must reach a target', async () => {
    const s = await join(roomName('svc-open'));
    const target = await generateKeyPair();
    const entry = await createEntry(s.keys, { parent: null, comparable: 1, synod: null, payload: { type: 'public_note', text: 'hi' } });
    s.client.send({ type: 'drop', id: 'd', target: target.identity, sender: s.identity, entry: entry.text });
    await s.client.next('ok', (m) => m.re === 'd');
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
