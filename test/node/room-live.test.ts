/**
 * The room against the real local Worker (`wrangler dev --local`, what
 * `npm start` runs), from Node's own WebSocket client over loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalEndpoint, createEntry, generateKeyPair, type KeyPair } from '../../src/protocol/index.ts';
import { startLocalWorker, type LocalWorker } from '../support/local-worker.ts';
import { allow, handshake, RoomClient, until, visibility, watch, type HandshakeOptions, type Session } from '../support/room-client.ts';

let worker: LocalWorker;
const sessions: Session[] = [];

beforeAll(async () => {
  worker = await startLocalWorker();
}, 90_000);

afterAll(async () => {
  for (const s of sessions) s.client.close();
  await Promise.all(sessions.map((s) => Promise.race([s.client.closed, new Promise((r) => setTimeout(r, 2000))])));
  await worker?.stop();
}, 30_000);

const roomUrl = (room: string, query = ''): string => `${worker.url.replace(/^http/, 'ws')}/room/${room}${query}`;
const as = (keys: KeyPair, extra = ''): string => `?identity=${keys.identity}${extra}`;

async function connect(url: string): Promise<RoomClient> {
  const ws = new WebSocket(url);
  const client = new RoomClient(ws);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  return client;
}

async function join(room: string, opts: HandshakeOptions = {}, extra = ''): Promise<Session> {
  const keys = opts.keys ?? (await generateKeyPair());
  const url = roomUrl(room, as(keys, extra));
  opts = { ...opts, keys };
  // The client signs for the URL it dialled; the room for the URL it was reached at. They must agree.
  const s = await handshake(await connect(url), canonicalEndpoint(url), opts);
  sessions.push(s);
  return s;
}

describe('room on the local Worker', () => {
  it('serves /health', async () => {
    const res = await fetch(`${worker.url}/health`);
    expect(await res.json()).toEqual({ ok: true, name: 'effigy' });
  });

  it('authenticates both ways: client and room agree on the endpoint', async () => {
    const s = await join('live-hs');
    expect(s.services).toEqual(expect.arrayContaining(['signalling', 'headtracking', 'relaying', 'blobs']));
    // A query string is not part of the endpoint; the room has one identity whatever shard holds the socket.
    const q = await join('live-hs', {}, '&client=test');
    expect(q.server).toBe(s.server);
  });

  it('closes a socket whose URL names no identity with 4010', async () => {
    const client = await connect(roomUrl('live-noid'));
    expect((await client.error()).code).toBe('wrong_shard');
    expect((await client.closed).code).toBe(4010);
  });

  it('refuses a signature made for another endpoint', async () => {
    const keys = await generateKeyPair();
    const client = await connect(roomUrl('live-ep', as(keys)));
    await expect(handshake(client, canonicalEndpoint(roomUrl('live-elsewhere')), { keys })).rejects.toThrow();
    expect((await client.error()).code).toBe('auth_failed');
    expect((await client.closed).code).toBe(4001);
  });

  it('tracks presence by interest and relays messages', async () => {
    const room = 'live-presence';
    const a = await join(room);
    const b = await join(room);
    await watch(a.client, [b.identity]);
    await allow(b.client, [a.identity]);
    await allow(a.client, [b.identity]);
    await until(() => a.client.present.has(b.identity), 5000, 'a to see b');

    a.client.send({ type: 'message_to', id: '1', to: b.identity, payload: { webrtc: 'offer', sdp: 'v=0' } });
    expect(await b.client.next('message_from')).toEqual({
      type: 'message_from',
      from: a.identity,
      payload: { webrtc: 'offer', sdp: 'v=0' },
    });
    await a.client.next('ok', (m) => m.re === '1');
    b.client.send({ type: 'message_to', to: a.identity, payload: { webrtc: 'answer' } });
    expect((await a.client.next('message_from')).from).toBe(b.identity);

    const nobody = await generateKeyPair();
    a.client.send({ type: 'message_to', id: '2', to: nobody.identity, payload: 0 });
    expect((await a.client.error('2')).code).toBe('not_present');

    b.client.close();
    await until(() => !a.client.present.has(b.identity), 5000, 'a to see b leave');
  });

  it('tracks heads', async () => {
    const room = 'live-heads';
    const a = await join(room);
    const b = await join(room);
    await watch(b.client, [a.identity]);
    await visibility(a.client, true);
    const e1 = await createEntry(a.keys, { parent: null, comparable: 10, synod: null, payload: { type: 'public_note', text: 'one' } });
    const e2 = await createEntry(a.keys, { parent: e1.hash, comparable: 20, synod: null, payload: { type: 'public_note', text: 'two' } });
    a.client.send({ type: 'announce', id: 'e2', entry: e2.text });
    await a.client.next('ok', (m) => m.re === 'e2');
    await until(() => b.client.heads.get(a.identity) === e2.hash, 5000, 'b to hear of the head');
    a.client.send({ type: 'announce', id: 'e1', entry: e1.text });
    expect((await a.client.error('e1')).code).toBe('rollback');
    b.client.send({ type: 'get_heads', id: 'g', identities: [a.identity] });
    expect((await b.client.next('last_known_heads')).heads).toEqual([[a.identity, e2.hash]]);
    b.client.send({ type: 'getblob', id: 'b', hash: e2.hash, maxsize: 100_000 });
    expect((await b.client.next('blob')).total).toBe(e2.size);
    for (const s of [a, b]) expect(s.client.invalid).toEqual([]);
  });
});
