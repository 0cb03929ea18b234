import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type Entry } from '../../src/protocol/index.ts';
import { allow, until, watch } from '../support/room-client.ts';
import { entry, homeOf, join, keysAt, leaveAll, note, roomName, SHARDS, stubFor, stubOf, settleRooms } from './room-helpers.ts';
import { createEntry, rebase } from '../../src/protocol/index.ts';

afterAll(settleRooms);

describe('head tracking', () => {
  it('records a valid announced head, tells those who watch and may see, and answers get_heads to anyone', async () => {
    const room = roomName('heads');
    const a = await join(room, { keys: await keysAt(0) });
    const b = await join(room, { keys: await keysAt(1 % SHARDS) });
    await watch(b.client, [a.identity]);
    await allow(a.client, [b.identity]);
    await until(() => b.client.present.has(a.identity), 5000, 'b to see a');
    const e1 = await entry(a.keys, 1000);
    a.client.send({ type: 'announce', id: 'a1', entry: e1.text });
    await a.client.next('ok', (m) => m.re === 'a1');
    await until(() => b.client.heads.get(a.identity) === e1.hash, 5000, 'the head in presence_list');
    // The announcer is not told its own news, and no `head` message goes out.
    expect(a.client.inbox.some((m) => m.type === 'presence_list' || m.type === 'head')).toBe(false);
    expect(b.client.inbox.some((m) => m.type === 'head')).toBe(false);

    const unknown = await generateKeyPair();
    b.client.send({ type: 'get_heads', id: 'g', identities: [a.identity, unknown.identity, b.identity] });
    expect((await b.client.next('last_known_heads', (m) => m.re === 'g')).heads).toEqual([[a.identity, e1.hash]]);

    // The newer head replaces it. Heads are public: a session that sees nothing of a still gets them.
    const e2 = await entry(a.keys, 2000, e1.hash);
    a.client.send({ type: 'announce', id: 'a2', entry: e2.text });
    await a.client.next('ok', (m) => m.re === 'a2');
    await until(() => b.client.heads.get(a.identity) === e2.hash, 5000, 'the newer head');
    const c = await join(room, { keys: await keysAt(2 % SHARDS) });
    c.client.send({ type: 'get_heads', id: 'g2', identities: [a.identity] });
    expect((await c.client.next('last_known_heads')).heads).toEqual([[a.identity, e2.hash]]);
    expect(c.client.inbox.some((m) => m.type === 'presence_list')).toBe(false);
    await leaveAll([a, b, c]);
  });

  it('never rolls back: a lower comparable is refused, an equal one is decided by hash', async () => {
    const room = roomName('rollback');
    const a = await join(room);
    const high = await entry(a.keys, 5000);
    a.client.send({ type: 'announce', id: 'h', entry: high.text });
    await a.client.next('ok', (m) => m.re === 'h');

    const low = await entry(a.keys, 4999);
    a.client.send({ type: 'announce', id: 'l', entry: low.text });
    const err = await a.client.error('l');
    expect(err.code).toBe('rollback');
    expect(err.message).toContain(high.hash);

    // Same comparable: compareEntries puts the lower hash first; only that one may replace the other.
    const rivals: Entry[] = [];
    for (let i = 0; rivals.length < 2 || rivals.every((r) => r.hash > high.hash) || rivals.every((r) => r.hash < high.hash); i++) {
      rivals.push(await createEntry(a.keys, { parent: null, comparable: 5000, synod: null, payload: note(`rival ${i}`) }));
    }
    const lower = rivals.find((r) => r.hash < high.hash)!;
    const higher = rivals.find((r) => r.hash > high.hash)!;
    a.client.send({ type: 'announce', id: 'hh', entry: higher.text });
    expect((await a.client.error('hh')).code).toBe('rollback');
    a.client.send({ type: 'announce', id: 'lh', entry: lower.text });
    await a.client.next('ok', (m) => m.re === 'lh');
    // Announcing the current head again is fine and changes nothing.
    a.client.send({ type: 'announce', id: 'again', entry: lower.text });
    await a.client.next('ok', (m) => m.re === 'again');
    a.client.send({ type: 'get_heads', id: 'g', identities: [a.identity] });
    expect((await a.client.next('last_known_heads')).heads).toEqual([[a.identity, lower.hash]]);
    // Rollback refusals are not abuse: the socket stays usable.
    expect(a.client.isClosed).toBe(false);
    a.client.close();
  });

  it('accepts a rebase: the rebase entry outranks the old head, though the re-signed entries keep their comparables', async () => {
    const room = roomName('rebase');
    const a = await join(room);
    const e1 = await entry(a.keys, 100);
    const e2 = await entry(a.keys, 200, e1.hash);
    const e3 = await entry(a.keys, 300, e2.hash);
    for (const e of [e1, e2, e3]) a.client.send({ type: 'announce', entry: e.text });
    for (let i = 0; i < 3; i++) await a.client.next('ok');
    // Deleting e2: e3 is re-signed onto e1 with its own comparable (300), then a rebase entry at 301.
    const [resigned, last] = await rebase(a.keys, [e1, e2, e3], new Set([e2.hash]), { now: 1 });
    // Positive control: the re-signed entry alone only ties with the head the room holds (same comparable), so the hash
    // alone would decide; the rebase entry outranks it whichever way that goes.
    expect(resigned!.body.comparable).toBe(e3.body.comparable);
    a.client.send({ type: 'announce', id: 'alone', entry: resigned!.text });
    const alone = await a.client.answer('alone');
    expect(alone.type === 'error' ? alone.code : alone.type).toBe(resigned!.hash < e3.hash ? 'ok' : 'rollback');
    a.client.send({ type: 'announce', id: 'r', entry: last!.text });
    await a.client.next('ok', (m) => m.re === 'r');
    a.client.send({ type: 'get_heads', id: 'g', identities: [a.identity] });
    expect((await a.client.next('last_known_heads', (m) => m.re === 'g')).heads).toEqual([[a.identity, last!.hash]]);
    a.client.close();
  }, 20_000);

  it("refuses invalid entries with the reason, and another identity's head (forbidden)", async () => {
    const room = roomName('bad-entry');
    const a = await join(room);
    const b = await join(room);
    const e = await entry(a.keys, 1000);
    const tampered = e.text.replace('note 1000', 'note 1001');
    a.client.send({ type: 'announce', id: 't', entry: tampered });
    const t = await a.client.error('t');
    expect(t.code).toBe('bad_entry');
    expect(t.message).toMatch(/^bad_signature/);
    a.client.send({ type: 'announce', id: 'j', entry: 'not an entry' });
    expect((await a.client.error('j')).code).toBe('bad_entry');
    // B may not push A's head, even a valid one.
    b.client.send({ type: 'announce', id: 'other', entry: e.text });
    const f = await b.client.error('other');
    expect(f.code).toBe('forbidden');
    b.client.send({ type: 'get_heads', id: 'g', identities: [a.identity] });
    expect((await b.client.next('last_known_heads')).heads).toEqual([]);
    await leaveAll([a, b]);
  });

  it("accepts a synod's head from a device whose tracked head names that synod, kept at the synod's home shard", async () => {
    const room = roomName('synod-head');
    const synod = await keysAt(1 % SHARDS);
    const s1 = await entry(synod, 1);
    const device = await join(room, { keys: await keysAt(0) });
    // A friend watching the synod, whom the device lets see it, hears of the synod's head.
    const friend = await join(room, { keys: await keysAt(2 % SHARDS) });
    await watch(friend.client, [synod.identity]);
    await allow(device.client, [friend.identity]);
    // Before its own head names the synod, the synod's entry is someone else's.
    device.client.send({ type: 'announce', id: 'early', entry: s1.text });
    expect((await device.client.error('early')).code).toBe('forbidden');
    const own = await entry(device.keys, 10, null, [synod.identity, s1.hash]);
    device.client.send({ type: 'announce', id: 'own', entry: own.text });
    await device.client.next('ok', (m) => m.re === 'own');
    device.client.send({ type: 'announce', id: 'syn', entry: s1.text });
    await device.client.next('ok', (m) => m.re === 'syn');
    device.client.send({ type: 'get_heads', id: 'g', identities: [synod.identity] });
    expect((await device.client.next('last_known_heads')).heads).toEqual([[synod.identity, s1.hash]]);
    await until(() => friend.client.heads.get(synod.identity) === s1.hash, 5000, "the friend to hear of the synod's head");
    await leaveAll([device, friend]);
  });

  it("remembers heads (and the room's identity) across an object restart", async () => {
    const room = roomName('restart');
    const a = await join(room);
    const e = await entry(a.keys, 1234);
    a.client.send({ type: 'announce', id: 'p', entry: e.text });
    await a.client.next('ok', (m) => m.re === 'p');
    const bootBefore = await runInDurableObject(stubFor(room, a.identity), (r) => r.bootId);

    await abortAllDurableObjects();
    await a.client.closed.catch(() => undefined);

    const b = await join(room);
    expect(b.server).toBe(a.server);
    expect(await runInDurableObject(stubFor(room, a.identity), (r) => r.bootId)).not.toBe(bootBefore);
    b.client.send({ type: 'get_heads', id: 'g', identities: [a.identity] });
    expect((await b.client.next('last_known_heads')).heads).toEqual([[a.identity, e.hash]]);
    // Still no rollback after the restart.
    const a2 = await join(room, { keys: a.keys });
    a2.client.send({ type: 'announce', id: 'old', entry: (await entry(a.keys, 1000)).text });
    expect((await a2.client.error('old')).code).toBe('rollback');
    await leaveAll([b, a2]);
  });

  it('splits long answers so every frame stays under the frame limit', async () => {
    const room = roomName('chunks');
    const a = await join(room);
    const keys = await Promise.all(Array.from({ length: 300 }, () => generateKeyPair()));
    // Seed 300 heads straight into each one's home shard: announcing them would need 300 sessions.
    const entries = await Promise.all(keys.map((k) => entry(k, 1)));
    for (let shard = 0; shard < SHARDS; shard++) {
      const mine = entries.filter((e) => homeOf(e.body.identity) === shard);
      await runInDurableObject(stubOf(room, shard), async (_, state) => {
        for (const e of mine) {
          state.storage.sql.exec(
            'INSERT INTO heads (identity, hash, comparable, synod, size, entry, updated_at) VALUES (?, ?, ?, NULL, ?, ?, 0)',
            e.body.identity,
            e.hash,
            1,
            e.size,
            e.text,
          );
        }
      });
    }
    a.client.send({ type: 'get_heads', id: 'all', identities: keys.map((k) => k.identity) });
    const first = await a.client.next('last_known_heads', (m) => m.re === 'all');
    const second = await a.client.next('last_known_heads', (m) => m.re === 'all');
    expect(first.heads.length + second.heads.length).toBe(300);
    a.client.close();
  });
});

describe('stateless tracker (issue 14 item 7)', () => {
  it('forgets heads nobody present or watching has announced for the TTL; keeps the rest', async () => {
    const room = roomName('prune');
    const [present, watched, gone] = await Promise.all([keysAt(0), keysAt(0), keysAt(0)]);
    const watcher = await join(room, { keys: await keysAt(1 % SHARDS) });
    await watch(watcher.client, [watched.identity]);
    const sessions = [];
    for (const keys of [present, watched, gone]) {
      const s = await join(room, { keys });
      const e = await entry(keys, 1);
      s.client.send({ type: 'announce', id: 'h', entry: e.text });
      await s.client.next('ok', (m) => m.re === 'h');
      sessions.push(s);
    }
    // The watched one and the gone one leave; the present one stays.
    await leaveAll(sessions.slice(1));
    const shard = stubOf(room, 0);
    const rows = () =>
      runInDurableObject(shard, (_, state) =>
        state.storage.sql
          .exec<{ identity: string }>('SELECT identity FROM heads')
          .toArray()
          .map((r) => r.identity),
      );
    expect(await rows()).toEqual(expect.arrayContaining([present.identity, watched.identity, gone.identity]));
    // Time passes: every head is older than the TTL (ROOM_HEAD_TTL_DAYS, 30 by default).
    await runInDurableObject(shard, (r, state) => {
      state.storage.sql.exec('UPDATE heads SET updated_at = ?', Date.now() - r.settings.headTtlMs - 1000);
    });
    // The shard's alarm prunes (it runs while sockets are held: the idle rule's sweeps).
    await runDurableObjectAlarm(shard);
    const left = await rows();
    expect(left).not.toContain(gone.identity);
    expect(left).toEqual(expect.arrayContaining([present.identity, watched.identity]));
    await leaveAll([watcher, sessions[0]!]);
  });
});
