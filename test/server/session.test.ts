import { runInDurableObject } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, newChallenge, signSession, verifySession } from '../../src/protocol/index.ts';
import { ROOM_LIMITS } from '../../src/server/room/limits.ts';
import { exports } from 'cloudflare:workers';
import { handshake, RoomClient } from '../support/room-client.ts';
import { endpointOf, join, open, roomName, stubFor, settleRooms, urlOf } from './room-helpers.ts';

afterAll(settleRooms);

describe('session handshake', () => {
  it("authenticates both ways and then offers the room's services", async () => {
    const room = roomName('hs');
    const client = await open(room);
    const hello = await client.next('session_request');
    expect(hello.head).toBeNull();
    expect(hello.challenge).toHaveLength(43);

    const keys = client.keys!;
    const challenge = newChallenge();
    const endpoint = endpointOf(room);
    client.send({ type: 'session_request', identity: keys.identity, head: null, challenge });
    // The room answers our session_request with its signature before ours arrives.
    const auth = await client.next('session_auth');
    expect(
      await verifySession(
        { endpoint, signer: hello.identity, peer: keys.identity, signerChallenge: hello.challenge, peerChallenge: challenge },
        auth.signature,
      ),
    ).toBe(true);
    const signature = await signSession(keys, {
      endpoint,
      peer: hello.identity,
      signerChallenge: challenge,
      peerChallenge: hello.challenge,
    });
    client.send({ type: 'session_auth', signature });
    const provides = await client.next('provides');
    expect(provides.services).toEqual(expect.arrayContaining(['signalling', 'headtracking', 'relaying', 'blobs']));
    expect(client.invalid).toEqual([]);
    client.close();
  });

  it('keeps one server identity per room, generated once and stored', async () => {
    const room = roomName('id');
    const a = await join(room);
    const b = await join(room);
    const other = await join(roomName('id-other'));
    expect(a.server).toBe(b.server);
    expect(other.server).not.toBe(a.server);
    const stored = await runInDurableObject(
      stubFor(room, a.identity),
      (_, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM meta WHERE key = 'server_seed'").one().n,
    );
    expect(stored).toBe(1);
    for (const s of [a, b, other]) s.client.close();
  });

  it('refuses a signature by another key (auth_failed, 4001)', async () => {
    const room = roomName('badsig');
    const client = await open(room);
    const hello = await client.next('session_request');
    const keys = client.keys!;
    const impostor = await generateKeyPair();
    const challenge = newChallenge();
    client.send({ type: 'session_request', identity: keys.identity, head: null, challenge });
    const signature = await signSession(impostor, {
      endpoint: endpointOf(room),
      peer: hello.identity,
      signerChallenge: challenge,
      peerChallenge: hello.challenge,
    });
    client.send({ type: 'session_auth', signature });
    expect((await client.error()).code).toBe('auth_failed');
    expect((await client.closed).code).toBe(4001);
  });

  it('refuses a signature made for another endpoint (auth_failed, 4001)', async () => {
    const room = roomName('ep');
    const client = await open(room);
    await expect(handshake(client, endpointOf('some-other-room'))).rejects.toThrow();
    expect((await client.error()).code).toBe('auth_failed');
    expect((await client.closed).code).toBe(4001);
  });

  it('refuses a signature over the wrong challenges', async () => {
    const room = roomName('chal');
    const client = await open(room);
    const hello = await client.next('session_request');
    const keys = client.keys!;
    const challenge = newChallenge();
    client.send({ type: 'session_request', identity: keys.identity, head: null, challenge });
    // Signs a fresh challenge instead of the one it sent.
    const signature = await signSession(keys, {
      endpoint: endpointOf(room),
      peer: hello.identity,
      signerChallenge: newChallenge(),
      peerChallenge: hello.challenge,
    });
    client.send({ type: 'session_auth', signature });
    expect((await client.error()).code).toBe('auth_failed');
    expect((await client.closed).code).toBe(4001);
  });

  it('refuses a challenge the room has seen before, and its own challenge reflected', async () => {
    const room = roomName('replay');
    const keys = await generateKeyPair();
    const first = await open(room, keys);
    await first.next('session_request');
    const challenge = newChallenge();
    first.send({ type: 'session_request', identity: keys.identity, head: null, challenge });
    await first.next('session_auth');

    const second = await open(room, keys);
    await second.next('session_request');
    second.send({ type: 'session_request', identity: keys.identity, head: null, challenge });
    const err = await second.error();
    expect(err.code).toBe('auth_failed');
    expect(err.message).toMatch(/replayed/);
    expect((await second.closed).code).toBe(4001);

    const third = await open(room, keys);
    const hello = await third.next('session_request');
    third.send({ type: 'session_request', identity: keys.identity, head: null, challenge: hello.challenge });
    expect((await third.error()).code).toBe('auth_failed');
    expect((await third.closed).code).toBe(4001);
    first.close();
  });

  it('closes a socket at the wrong shard: no identity in the URL, a bad one, or not the session identity (wrong_shard, 4010)', async () => {
    const room = roomName('shard');
    for (const url of [urlOf(room), `${urlOf(room)}?identity=@nobody`]) {
      const res = await exports.default.fetch(url, { headers: { Upgrade: 'websocket' } });
      expect(res.status).toBe(101);
      const client = new RoomClient(res.webSocket!);
      res.webSocket!.accept();
      const err = await client.error();
      expect(err.code).toBe('wrong_shard');
      expect(err.message).toMatch(/identity=/);
      expect((await client.closed).code).toBe(4010);
    }
    // The URL names one identity, the session another.
    const client = await open(room);
    await client.next('session_request');
    const other = await generateKeyPair();
    client.send({ type: 'session_request', id: 'r', identity: other.identity, head: null, challenge: newChallenge() });
    expect((await client.error('r')).code).toBe('wrong_shard');
    expect((await client.closed).code).toBe(4010);
    // Positive control: the same room takes a socket whose URL names its session identity.
    const ok = await join(room, { keys: other });
    expect(ok.services).toContain('signalling');
    ok.client.close();
  });

  it('refuses a second session_request on one socket', async () => {
    const room = roomName('twice');
    const client = await open(room);
    await client.next('session_request');
    const keys = client.keys!;
    client.send({ type: 'session_request', identity: keys.identity, head: null, challenge: newChallenge() });
    await client.next('session_auth');
    client.send({ type: 'session_request', identity: keys.identity, head: null, challenge: newChallenge() });
    expect((await client.error()).code).toBe('auth_failed');
    expect((await client.closed).code).toBe(4001);
  });

  it('answers anything but the handshake with unauthenticated until authenticated', async () => {
    const room = roomName('preauth');
    const client = await open(room);
    const hello = await client.next('session_request');
    const other = await generateKeyPair();
    client.send({ type: 'message_to', id: 'm1', to: other.identity, payload: 'hi' });
    client.send({ type: 'get_heads', id: 'g1', identities: [other.identity] });
    client.send({ type: 'provides', id: 'p1', services: ['blobs'] });
    client.send({ type: 'session_auth', id: 'a1', signature: 'A'.repeat(86) as never });
    for (const re of ['m1', 'g1', 'p1', 'a1']) expect((await client.error(re)).code).toBe('unauthenticated');
    // Pings are answered before authentication: the bare one by the runtime, one with an id by the room.
    client.send('{"type":"ping"}');
    await client.next('pong');
    client.send({ type: 'ping', id: 'k' });
    expect((await client.next('pong')).re).toBe('k');
    // The socket still authenticates afterwards (the room's session_request was taken above: put it back).
    client.inbox.unshift(hello);
    const s = await handshake(client, endpointOf(room));
    expect(s.services).toContain('signalling');
    client.close();
  });

  it('closes a socket that does not authenticate in time (auth_timeout, 4002), and only that one', async () => {
    const room = roomName('timeout');
    const authed = await join(room);
    const client = await open(room);
    await client.next('session_request');
    const t0 = Date.now();
    const closed = await client.closed;
    expect(closed.code).toBe(4002);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(ROOM_LIMITS.authTimeoutMs - 500);
    expect(client.inbox.some((m) => m.type === 'error' && m.code === 'auth_timeout')).toBe(true);
    // The authenticated socket, as old as the other, stays.
    expect(authed.client.isClosed).toBe(false);
    authed.client.send({ type: 'ping', id: 'still' });
    expect((await authed.client.next('pong')).re).toBe('still');
    authed.client.close();
  }, 15_000);
});
