import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
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
