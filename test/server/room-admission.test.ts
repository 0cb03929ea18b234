/**
 * Who a shard lets in (docs/room.md §8; issue 14 item 1): only authenticated
 * sockets fill it, sockets that have not signed in have a small budget per
 * client address, an identity holds a few sockets at most, and a socket
 * that says nothing and answers no ping is closed. The budgets here are the
 * small ones vitest.config.ts sets; the attack with sockets that never
 * answer the close is in test/node/room-lockout.test.ts (raw TCP).
 */
import { evictDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/protocol/index.ts';
import { roomSettings } from '../../src/server/room/settings.ts';
import { handshake, RoomClient, type Session } from '../support/room-client.ts';
import { endpointOf, identityAt, join, keysAt, leaveAll, open, openFor, roomName, settleRooms, SHARDS, stubOf } from './room-helpers.ts';

afterAll(settleRooms);

const settings = roomSettings(env);

/** Opens `n` sockets homed at shard 0, in batches. */
async function openMany(room: string, n: number, address?: string): Promise<RoomClient[]> {
  const out: RoomClient[] = [];
  for (let i = 0; i < n; i += 32) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(32, n - i) }, () => openFor(room, identityAt(0), address)))));
  }
  return out;
}

async function refusal(client: RoomClient): Promise<{ code: string; message: string; close: number }> {
  const err = await client.error();
  return { code: err.code, message: err.message, close: (await client.closed).code };
}

/** Polls an asynchronous condition until it holds, with a deadline. */
async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a new socket to `room` (from `address`) is let in. */
async function admitted(room: string, address?: string): Promise<boolean> {
  const c = await openFor(room, identityAt(0), address);
  const ok = await c.next('session_request').then(
    () => true,
    () => false,
  );
  c.close();
  return ok;
}

const closeAll = async (clients: RoomClient[]) => {
  for (const c of clients) c.close();
  await Promise.all(clients.map((c) => c.closed));
};

describe('admission', () => {
  it('gives sockets that have not signed in a budget per address, apart from the shard cap', async () => {
    const room = roomName('pending');
    const pending = await openMany(room, settings.pendingPerAddress, '203.0.113.1');
    const over = await refusal(await openFor(room, identityAt(0), '203.0.113.1'));
    expect(over).toEqual({ code: 'unavailable', message: expect.stringMatching(/not signed in yet/), close: 4029 });
    // Positive controls: another address gets in, and so does this one once a pending socket signs in.
    const other = await open(room, await keysAt(0), '203.0.113.2');
    await other.next('session_request');
    await join(room, { keys: await keysAt(0), ip: '203.0.113.2' });
    pending[0]!.close();
    await pending[0]!.closed;
    await eventually(() => admitted(room, '203.0.113.1'), 5000, 'a pending socket that left makes room for another');
    await closeAll([...pending, other]);
  }, 30_000);

  it(`refuses a shard's ${settings.socketsPerAddress + 1}th socket from one address, signed in or not (4029)`, async () => {
    const room = roomName('address');
    const sessions = [];
    for (let i = 0; i < settings.socketsPerAddress; i += settings.pendingPerAddress) {
      const batch = Math.min(settings.pendingPerAddress, settings.socketsPerAddress - i);
      sessions.push(
        ...(await Promise.all(Array.from({ length: batch }, async () => join(room, { keys: await keysAt(0), ip: '192.0.2.9' })))),
      );
    }
    const over = await refusal(await openFor(room, identityAt(0), '192.0.2.9'));
    expect(over).toEqual({
      code: 'unavailable',
      message: `this room holds at most ${settings.socketsPerAddress} connections from one address`,
      close: 4029,
    });
    // Positive control: another address is let in.
    expect(await admitted(room, '192.0.2.10')).toBe(true);
    await leaveAll(sessions);
  }, 60_000);

  it(`counts only authenticated sockets toward the shard's cap (${settings.maxSockets} here)`, async () => {
    const room = roomName('full');
    // Silent sockets from several addresses: before issue 14 these counted toward the cap.
    const silent: RoomClient[] = [];
    for (let a = 0; a < 4; a++) silent.push(...(await openMany(room, settings.pendingPerAddress, `198.51.100.${a}`)));
    const sessions = [];
    for (let i = 0; i < settings.maxSockets - 1; i += 16) {
      const batch = Math.min(16, settings.maxSockets - 1 - i);
      sessions.push(...(await Promise.all(Array.from({ length: batch }, async () => join(room, { keys: await keysAt(0) })))));
    }
    // One let in while there is room, which signs in only after the shard has filled.
    const late = await open(room, await keysAt(0));
    sessions.push(await join(room, { keys: await keysAt(0) }));
    // The shard is full of authenticated sockets: the next upgrade is refused...
    const over = await refusal(await openFor(room, identityAt(0)));
    expect(over).toEqual({ code: 'unavailable', message: `this room holds at most ${settings.maxSockets} connections`, close: 4029 });
    // ...and so is a socket let in before the shard filled that signs in now.
    await expect(handshake(late, endpointOf(room))).rejects.toThrow();
    expect(await refusal(late)).toEqual({ code: 'unavailable', message: over.message, close: 4029 });
    // One leaving makes room; another shard of the same room was never affected.
    const elsewhere = await join(room, { keys: await keysAt(1 % SHARDS) });
    sessions.pop()!.client.close();
    await eventually(() => admitted(room), 5000, 'room again once a socket left');
    await closeAll(silent);
    await leaveAll([...sessions, elsewhere]);
  }, 90_000);

  it(`refuses an identity's ${settings.socketsPerIdentity + 1}th socket once it signs in (4029)`, async () => {
    const room = roomName('per-identity');
    const keys = await generateKeyPair();
    const mine = [];
    for (let i = 0; i < settings.socketsPerIdentity; i++) mine.push(await join(room, { keys }));
    const extra = await open(room, keys);
    await expect(handshake(extra, endpointOf(room), { keys })).rejects.toThrow();
    expect(await refusal(extra)).toEqual({
      code: 'unavailable',
      message: `this room holds at most ${settings.socketsPerIdentity} connections of one identity`,
      close: 4029,
    });
    // Positive controls: another identity is let in, and so is this one once a socket of it leaves.
    const someone = await join(room);
    mine.pop()!.client.close();
    let again: Session | null = null;
    await eventually(async () => (again = await join(room, { keys }).catch(() => null)) !== null, 5000, 'a place for the identity again');
    await leaveAll([...mine, someone, again!]);
  }, 30_000);
});

describe('idle rule', () => {
  it('pings a silent socket, closes one that never answers (4011), and keeps one whose keepalives the runtime answered', async () => {
    const room = roomName('idle');
    const [a, b, c] = [await keysAt(0), await keysAt(0), await keysAt(0)];
    const answering = await join(room, { keys: a });
    const halfOpen = await join(room, { keys: b });
    halfOpen.client.silent = true;
    const keepalive = await join(room, { keys: c });
    // Keepalives every second, answered by the runtime (setWebSocketAutoResponse) without waking the shard.
    const timer = setInterval(() => keepalive.client.send('{"type":"ping"}'), 1000);
    // The shard hibernates meanwhile: the rule lives in attachments and the alarm.
    await evictDurableObject(stubOf(room, 0));
    const closed = await halfOpen.client.closed;
    clearInterval(timer);
    expect(closed.code).toBe(4011);
    expect(halfOpen.client.pingsReceived).toBeGreaterThanOrEqual(1);
    // The one that answered the room's ping, and the one that kept alive by itself (never pinged), stay.
    expect(answering.client.pingsReceived).toBeGreaterThanOrEqual(1);
    expect(keepalive.client.pingsReceived).toBe(0);
    for (const s of [answering, keepalive]) {
      s.client.send({ type: 'ping', id: 'still' });
      await s.client.next('pong', (m) => m.re === 'still');
      expect(s.client.isClosed).toBe(false);
    }
    await leaveAll([answering, keepalive]);
  }, 30_000);
});
