/**
 * Issue 14 item 1, as an attacker does it: real TCP sockets from Node
 * (`ws`, from several loopback addresses, which the local Worker sees as
 * CF-Connecting-IP) that say nothing and never answer the room's close
 * frame (their socket is paused: nothing is read, so nothing is answered).
 * Before the fix the shard counted every socket it held, closed or not, and
 * an honest client got 4029 for as long as the attacker kept the TCP
 * connections open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { canonicalEndpoint, generateKeyPair, type KeyPair } from '../../src/protocol/index.ts';
import { ROOM_DEFAULTS } from '../../src/server/room/settings.ts';
import { ROOM_LIMITS } from '../../src/server/room/limits.ts';
import { startLocalWorker, type LocalWorker } from '../support/local-worker.ts';
import { handshake, RoomClient, type Session } from '../support/room-client.ts';

/** The idle time of this test's Worker: short, so the throwaway-key attack ends within the test. */
const IDLE_SECONDS = 4;
let worker: LocalWorker;
const held: WebSocket[] = [];

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { ROOM_IDLE_SECONDS: String(IDLE_SECONDS) } });
}, 120_000);

afterAll(async () => {
  for (const ws of held) ws.terminate();
  await worker?.stop();
}, 30_000);

const roomUrl = (room: string, keys: KeyPair | { identity: string }) =>
  `${worker.url.replace(/^http/, 'ws')}/room/${room}?identity=${keys.identity}`;

/** The attacker's addresses: as many as it takes to reach the shard's cap within the budget per address. */
const ADDRESSES = Array.from(
  { length: ROOM_DEFAULTS.ROOM_MAX_SOCKETS / ROOM_DEFAULTS.ROOM_SOCKETS_PER_ADDRESS },
  (_, i) => `127.0.0.${i + 2}`,
);

function dial(url: string, localAddress?: string): Promise<WebSocket> {
  const ws = new WebSocket(url, localAddress ? { localAddress } : {});
  held.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** From now on the socket reads nothing, so it answers no ping and no close frame; its TCP connection stays open. */
const goSilent = (ws: WebSocket) => (ws as unknown as { _socket: { pause(): void } })._socket.pause();

async function honestJoin(room: string): Promise<Session> {
  const keys = await generateKeyPair();
  const url = roomUrl(room, keys);
  const ws = await dial(url);
  return handshake(new RoomClient(ws as never), canonicalEndpoint(url), { keys });
}

/** Polls until an honest client gets into `room`, or the deadline passes (then the last refusal is the error). */
async function getsIn(room: string, deadlineMs: number): Promise<Session> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await honestJoin(room);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`an honest client is still refused: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe('room lockout (issue 14 item 1)', () => {
  it(`${ROOM_DEFAULTS.ROOM_MAX_SOCKETS} sockets that say nothing and never answer the close do not lock the room`, async () => {
    const room = 'lock-silent';
    let opened = 0;
    for (const address of ADDRESSES) {
      for (let i = 0; i < ROOM_DEFAULTS.ROOM_SOCKETS_PER_ADDRESS; i += 64) {
        const batch = await Promise.all(Array.from({ length: 64 }, async () => dial(roomUrl(room, await generateKeyPair()), address)));
        for (const ws of batch) goSilent(ws);
        opened += batch.length;
      }
    }
    expect(opened).toBe(ROOM_DEFAULTS.ROOM_MAX_SOCKETS);
    // While they are held, and after the room has closed them for not signing in (they never answer that close).
    const now = await honestJoin(room);
    await new Promise((r) => setTimeout(r, ROOM_LIMITS.authTimeoutMs + 1000)); // the attack's own timing is what is tested
    const later = await honestJoin(room);
    expect(later.services).toContain('signalling');
    now.client.close();
    later.client.close();
  }, 120_000);

  it(`${ROOM_DEFAULTS.ROOM_MAX_SOCKETS} sockets signed in with throwaway keys, then silent, are closed as idle and stop counting`, async () => {
    const room = 'lock-keys';
    let authed = 0;
    for (const address of ADDRESSES) {
      for (let i = 0; i < ROOM_DEFAULTS.ROOM_SOCKETS_PER_ADDRESS; i += ROOM_DEFAULTS.ROOM_PENDING_PER_ADDRESS) {
        const batch = await Promise.all(
          Array.from({ length: ROOM_DEFAULTS.ROOM_PENDING_PER_ADDRESS }, async () => {
            const keys = await generateKeyPair();
            const url = roomUrl(room, keys);
            const ws = await dial(url, address);
            await handshake(new RoomClient(ws as never), canonicalEndpoint(url), { keys });
            return ws;
          }),
        );
        for (const ws of batch) goSilent(ws);
        authed += batch.length;
      }
    }
    expect(authed).toBe(ROOM_DEFAULTS.ROOM_MAX_SOCKETS);
    // The shard is full of signed-in sockets, as it may be; once they fall idle the room closes them, and
    // a socket the room closed no longer counts, answered or not.
    const s = await getsIn(room, IDLE_SECONDS * 1000 * 3);
    expect(s.services).toContain('signalling');
    s.client.close();
  }, 240_000);
});
