import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { roomSettings } from '../../src/server/room/settings.ts';
import type { Room } from '../../src/server/room.ts';
import { readAttachment } from '../../src/server/room/conn.ts';
import { allow, handshake, until, visibility, watch } from '../support/room-client.ts';
import { endpointOf, entry, join, keysAt, leaveAll, open, roomName, SHARDS, stubFor, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

describe('hibernation', () => {
  it('keeps sockets, identities, watch lists, allow-lists and subscriptions when the shards are evicted and woken', async () => {
    const room = roomName('hibernate');
    const alice = await join(room, { keys: await keysAt(0) });
    const bob = await join(room, { keys: await keysAt(1 % SHARDS) });
    const shards = [stubFor(room, alice.identity), stubFor(room, bob.identity)];
    await watch(bob.client, [alice.identity]);
    await allow(alice.client, [bob.identity]);
    await until(() => bob.client.present.has(alice.identity), 5000, 'bob to see alice');
    const boots = await Promise.all(shards.map((s) => runInDurableObject(s, (r) => r.bootId)));
    const evict = async () => {
      for (const s of shards) await evictDurableObject(s);
    };

    await evict();
    // The sockets survived; the first frame wakes a new instance that knows who is who and who lets whom.
    bob.client.send({ type: 'message_to', id: 'm', to: alice.identity, payload: 'after the nap' });
    const got = await alice.client.next('message_from');
    expect(got.from).toBe(bob.identity);
    expect(got.payload).toBe('after the nap');
    await bob.client.next('ok', (m) => m.re === 'm');
    for (const [i, s] of shards.entries()) expect(await runInDurableObject(s, (r) => r.bootId)).not.toBe(boots[i]);

    // The subscription at Alice's shard and Bob's watch list at his were rebuilt from SQLite.
    await evict();
    const claimed = (await entry(alice.keys, 5)).hash;
    alice.client.send({ type: 'online', identity: alice.identity, head: claimed });
    await until(() => bob.client.present.get(alice.identity) === claimed, 5000, 'the head claimed after a nap');
    await evict();
    const e = await entry(alice.keys, 10);
    alice.client.send({ type: 'announce', id: 'h', entry: e.text });
    await alice.client.next('ok', (m) => m.re === 'h');
    await until(() => bob.client.heads.get(alice.identity) === e.hash, 5000, 'the head announced after a nap');

    // Each socket's authenticated identity is in its attachment; lists are in SQLite.
    const identities = await runInDurableObject(shards[1]!, (_, state) => state.getWebSockets().map((ws) => readAttachment(ws)?.identity));
    expect(identities).toContain(bob.identity);
    const lists = await runInDurableObject(shards[1]!, (_, state) =>
      state.storage.sql.exec<{ identities: string }>('SELECT identities FROM watch_lists').toArray(),
    );
    expect(lists.map((r) => r.identities)).toContain(alice.identity);

    await evict();
    alice.client.close();
    await until(() => !bob.client.present.has(alice.identity), 5000, 'bob to see alice leave after a nap');
    await leaveAll([bob]);
  }, 30_000);

  it('drops the lists of sockets that left while a shard was gone, and their subscriptions at other shards', async () => {
    const room = roomName('hibernate-gone');
    const alice = await join(room, { keys: await keysAt(0) });
    const bob = await join(room, { keys: await keysAt(1 % SHARDS) });
    await visibility(alice.client, true);
    await watch(bob.client, [alice.identity]);
    await until(() => bob.client.present.has(alice.identity), 5000, 'bob to see alice');
    // A ghost: a socket of Ghost's that Bob's shard lost without running its close hooks (a crash): its
    // watch list is still in SQLite, and its subscription still at Alice's shard.
    const ghost = await keysAt(1 % SHARDS);
    await runInDurableObject(stubFor(room, ghost.identity), (_, state) => {
      state.storage.sql.exec(
        'INSERT INTO watch_lists (sid, watcher, identities) VALUES (?, ?, ?)',
        crypto.randomUUID(),
        ghost.identity,
        alice.identity,
      );
    });
    const subscribed = () =>
      runInDurableObject(stubFor(room, alice.identity), (_, state) =>
        state.storage.sql
          .exec<{ watcher: string }>('SELECT watcher FROM subscriptions')
          .toArray()
          .map((row) => row.watcher),
      );
    await runInDurableObject(stubFor(room, alice.identity), (r) =>
      r.exchange([{ op: 'subscribe', watcher: ghost.identity, identity: alice.identity }]),
    );
    expect(await subscribed()).toEqual(expect.arrayContaining([bob.identity, ghost.identity]));

    // Bob's shard wakes: the ghost's row goes, and so does its subscription at Alice's shard; Bob's stays.
    await evictDurableObject(stubFor(room, bob.identity));
    bob.client.send({ type: 'ping', id: 'wake' });
    await bob.client.next('pong');
    await expect.poll(subscribed, { timeout: 5000 }).not.toContain(ghost.identity);
    expect(await subscribed()).toContain(bob.identity);
    const rows = await runInDurableObject(stubFor(room, bob.identity), (_, state) =>
      state.storage.sql
        .exec<{ watcher: string }>('SELECT watcher FROM watch_lists')
        .toArray()
        .map((row) => row.watcher),
    );
    expect(rows).toEqual([bob.identity]);
    await leaveAll([alice, bob]);
  });

  it('drops a subscription whose watcher no shard holds when a change finds no socket of it', async () => {
    const room = roomName('stale-sub');
    const alice = await join(room, { keys: await keysAt(0) });
    await visibility(alice.client, true);
    const ghost = await keysAt(1 % SHARDS);
    const local = await keysAt(0);
    const subscribed = () =>
      runInDurableObject(stubFor(room, alice.identity), (_, state) =>
        state.storage.sql
          .exec<{ watcher: string }>('SELECT watcher FROM subscriptions')
          .toArray()
          .map((row) => row.watcher),
      );
    await runInDurableObject(stubFor(room, alice.identity), (r) =>
      r.exchange([
        { op: 'subscribe', watcher: ghost.identity, identity: alice.identity },
        { op: 'subscribe', watcher: local.identity, identity: alice.identity },
      ]),
    );
    expect(await subscribed()).toEqual(expect.arrayContaining([ghost.identity, local.identity]));
    // Alice's next change is delivered nowhere (no socket of either watcher, here or at shard 1): both go.
    alice.client.send({ type: 'online', identity: alice.identity, head: (await entry(alice.keys, 3)).hash });
    await expect.poll(subscribed, { timeout: 5000 }).toEqual([]);
    alice.client.close();
  });

  it('keeps a half-done handshake across an eviction', async () => {
    const room = roomName('hibernate-hs');
    const client = await open(room);
    await evictDurableObject(stubFor(room, client.keys!.identity));
    // The challenge and endpoint live in the attachment, so the handshake completes on a new instance.
    const s = await handshake(client, endpointOf(room));
    expect(s.services).toContain('signalling');
    client.close();
  });

  it('still closes an unauthenticated socket after an eviction (the alarm survives)', async () => {
    const room = roomName('hibernate-timeout');
    const client = await open(room);
    await client.next('session_request');
    await evictDurableObject(stubFor(room, client.keys!.identity));
    expect((await client.closed).code).toBe(4002);
  }, 15_000);
});

describe("PartyKit's known hibernation failures (issue 14)", () => {
  const held = (room: string, identity: string) =>
    runInDurableObject(stubFor(room, identity as never), (r: Room, state) => ({
      runtime: state.getWebSockets().length,
      present: r.presence.sockets,
      ofIdentity: r.presence.socketsOf(identity as never).size,
    }));

  it('the connection list does not grow on every reconnect, evicted or not', async () => {
    const room = roomName('reconnects');
    const keys = await keysAt(0);
    for (let i = 0; i < 12; i++) {
      const s = await join(room, { keys });
      if (i % 3 === 0) await evictDurableObject(stubFor(room, keys.identity));
      s.client.close();
      await s.client.closed;
    }
    const last = await join(room, { keys });
    await expect.poll(() => held(room, keys.identity), { timeout: 5000 }).toEqual({ runtime: 1, present: 1, ofIdentity: 1 });
    await leaveAll([last]);
  });

  it('a socket the room closed is not a connection: not counted, not present, not messaged', async () => {
    const room = roomName('closing');
    const [a, b] = [await keysAt(0), await keysAt(0)];
    const alice = await join(room, { keys: a });
    const bob = await join(room, { keys: b });
    await visibility(bob.client, true, true);
    bob.client.silent = true;
    // The room closes Bob's socket; in the same turn the runtime still lists it (its close not yet answered).
    const seen = await runInDurableObject(stubFor(room, b.identity), (r: Room, state) => {
      const ws = state.getWebSockets().find((w) => readAttachment(w)?.identity === b.identity)!;
      const conn = [...r.presence.socketsOf(b.identity)][0]!;
      expect(conn.ws).toBe(ws);
      r.close(conn, 4011, 'test');
      return { runtime: state.getWebSockets().length, present: r.presence.sockets, bob: r.presence.has(b.identity) };
    });
    expect(seen).toEqual({ runtime: 2, present: 1, bob: false });
    alice.client.send({ type: 'message_to', id: 'm', to: b.identity, payload: 'hello?' });
    expect((await alice.client.error('m')).code).toBe('not_present');
    expect((await bob.client.closed).code).toBe(4011);
    await leaveAll([alice]);
  });

  it('a client idle past the idle time, across evictions, still hears and is heard', async () => {
    const room = roomName('idle-then-talk');
    const [a, b] = [await keysAt(0), await keysAt(1 % SHARDS)];
    const alice = await join(room, { keys: a });
    const bob = await join(room, { keys: b });
    await allow(alice.client, [b.identity]);
    await allow(bob.client, [a.identity]);
    const shards = [stubFor(room, a.identity), stubFor(room, b.identity)];
    // Both sit idle for longer than the idle time (6 s here; 120 s by default), the shards hibernating,
    // answering only the room's pings, which the clients do as the app's link does.
    const end = Date.now() + roomSettings(env).idleMs + 1500;
    while (Date.now() < end) {
      // Evict whichever shard is running (the room's pings wake them between evictions).
      for (const s of shards) await evictDurableObject(s).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(alice.client.pingsReceived + bob.client.pingsReceived).toBeGreaterThan(0);
    bob.client.send({ type: 'message_to', id: 'm1', to: a.identity, payload: 'still there?' });
    expect((await alice.client.next('message_from')).payload).toBe('still there?');
    alice.client.send({ type: 'message_to', id: 'm2', to: b.identity, payload: 'yes' });
    expect((await bob.client.next('message_from')).payload).toBe('yes');
    await leaveAll([alice, bob]);
  }, 30_000);
});
