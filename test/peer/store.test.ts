/** Both Store homes pass the same contract: the IndexedDB one through fake-indexeddb here, real Chromium in e2e. */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IdbStore } from '../../src/peer/idb-store.ts';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import { MAX_NOTES, type Store } from '../../src/peer/store.ts';
import { createEntry, generateKeyPair, hashOf, type Entry, type Hash } from '../../src/protocol/index.ts';

let n = 0;
const homes: [string, () => Promise<Store>][] = [
  ['memory', async () => new MemoryStore()],
  ['indexeddb', async () => (await IdbStore.open(`test-${++n}`)).store],
];

describe.each(homes)('%s store', (_, make) => {
  it("keeps entries, orders an identity's newest first, and reads them back whole", async () => {
    const store = await make();
    const keys = await generateKeyPair();
    const entries: Entry[] = [];
    let parent: Hash | null = null;
    for (let i = 0; i < 5; i++) {
      const e = await createEntry(keys, {
        parent,
        comparable: 10 + i,
        synod: null,
        payload: { type: 'public_note', text: `n${i} naïve 🦊` },
      });
      entries.push(e);
      parent = e.hash;
      await store.putEntry(e);
    }
    const back = await store.getEntry(entries[2]!.hash);
    expect(back).toEqual(entries[2]);
    expect(await store.hasEntry(hashOf(new Uint8Array([9])))).toBe(false);
    expect((await store.entriesOf(keys.identity, 3)).map((e) => e.body.comparable)).toEqual([14, 13, 12]);
  });

  it('keeps heads, blobs, watch list, secrets, settings and inbox; clear forgets all', async () => {
    const store = await make();
    const keys = await generateKeyPair();
    const h = hashOf(new Uint8Array([1, 2, 3]));
    await store.setHead({ identity: keys.identity, hash: h, comparable: 7 });
    await store.putBlob(h, new Uint8Array([1, 2, 3]));
    await store.setWatch({ identity: keys.identity, reasons: ['follow'] });
    await store.putSecret('device-seed', keys.seed);
    await store.putSetting('blocked', [keys.identity]);
    expect((await store.getHead(keys.identity))?.comparable).toBe(7);
    expect([...((await store.getBlob(h)) ?? [])]).toEqual([1, 2, 3]);
    expect(await store.blobSize(h)).toBe(3);
    expect(await store.watchList()).toEqual([{ identity: keys.identity, reasons: ['follow'] }]);
    expect([...((await store.getSecret('device-seed')) ?? [])]).toEqual([...keys.seed]);
    expect(await store.getSetting('blocked')).toEqual([keys.identity]);
    await store.setWatch({ identity: keys.identity, reasons: [] });
    expect(await store.watchList()).toEqual([]);
    await store.clear();
    expect(await store.heads()).toEqual([]);
    expect(await store.getSecret('device-seed')).toBeUndefined();
  });

  it('an engine reopened on the same store is the same identity with the same feed', async () => {
    const store = await make();
    const first = await Peer.open({ store });
    await first.createSynod({ name: 'Lin' });
    const note = await first.postNote('persisted');
    const again = await Peer.open({ store });
    expect(again.identity).toBe(first.identity);
    expect(again.synodIdentity).toBe(first.synodIdentity);
    expect((await again.feed(again.identity))[0]?.hash).toBe(note.hash);
    expect(await again.feed(again.identity)).toHaveLength(2); // the device's identification, then the note
    expect(again.synodState()?.profile.name).toBe('Lin');
  });
});

/** A feed of `n` notes, root first; `rebaseAt` re-signs from that index on, leaving the old entries as orphans. */
async function feedOf(n: number, comparable = 100) {
  const keys = await generateKeyPair();
  const chain: Entry[] = [];
  let parent: Entry | null = null;
  for (let i = 0; i < n; i++) {
    parent = await createEntry(keys, {
      parent: parent?.hash ?? null,
      comparable: comparable + i * 10,
      synod: null,
      payload: { type: 'public_note', text: `n${i}` },
    });
    chain.push(parent);
  }
  return { keys, chain };
}

describe.each(homes)('%s store: walks, merges and logs', (_, make) => {
  it('walks a feed down its parents in one read, skipping orphans in between, within its bounds', async () => {
    const store = await make();
    const { keys, chain } = await feedOf(6);
    // An orphan between entries 3 and 4 (same identity, comparable in between, another parent).
    const orphan = await createEntry(keys, {
      parent: chain[2]!.hash,
      comparable: 135,
      synod: null,
      payload: { type: 'public_note', text: 'o' },
    });
    await store.putEntries([...chain, orphan]);
    await store.putEntries(chain); // storing again changes nothing
    const hashes = (es: Entry[]) => es.map((e) => e.body.payload.type === 'public_note' && e.body.payload.text);
    expect(hashes(await store.chain(chain[5]!.hash, { limit: 100 }))).toEqual(['n5', 'n4', 'n3', 'n2', 'n1', 'n0']);
    expect(hashes(await store.chain(chain[5]!.hash, { limit: 2 }))).toEqual(['n5', 'n4']);
    expect(hashes(await store.chain(chain[5]!.hash, { limit: 100, stop: chain[2]!.hash }))).toEqual(['n5', 'n4', 'n3']);
    expect(hashes(await store.chain(chain[5]!.hash, { limit: 100, fits: (e) => e.body.comparable > 125 }))).toEqual(['n5', 'n4', 'n3']);
    expect(await store.chain(chain[5]!.hash, { limit: 100, identity: (await generateKeyPair()).identity })).toEqual([]);
    expect(await store.chain(hashOf(new Uint8Array([7])), { limit: 100 })).toEqual([]);
  });

  it('stops a walk where a parent is missing, even past many rows in between', async () => {
    const store = await make();
    const { keys, chain } = await feedOf(3);
    const orphans: Entry[] = [];
    for (let i = 0; i < 40; i++)
      orphans.push(
        await createEntry(keys, {
          parent: chain[0]!.hash,
          comparable: 111 + (i % 8),
          synod: null,
          payload: { type: 'tag', target: { entry: chain[0]!.hash, identity: keys.identity }, tag: `t${i}` },
        }),
      );
    await store.putEntries([chain[2]!, chain[0]!, ...orphans]); // chain[1] missing
    expect((await store.chain(chain[2]!.hash, { limit: 100 })).map((e) => e.hash)).toEqual([chain[2]!.hash]);
    await store.putEntry(chain[1]!);
    expect((await store.chain(chain[2]!.hash, { limit: 100 })).map((e) => e.hash)).toEqual([
      chain[2]!.hash,
      chain[1]!.hash,
      chain[0]!.hash,
    ]);
  });

  it('merges the newest entries of several head chains, leaving out what is not on a chain', async () => {
    const store = await make();
    const a = await feedOf(5, 100);
    const b = await feedOf(5, 105);
    const stray = await createEntry(a.keys, {
      parent: a.chain[1]!.hash,
      comparable: 1000,
      synod: null,
      payload: { type: 'public_note', text: 'orphan' },
    });
    await store.putEntries([...a.chain, ...b.chain, stray]);
    const heads = [a, b].map(({ chain }) => ({
      identity: chain[0]!.body.identity,
      hash: chain.at(-1)!.hash,
      comparable: chain.at(-1)!.body.comparable,
    }));
    const newest = await store.newest(heads, 4);
    expect(newest.map((e) => e.body.comparable)).toEqual([145, 140, 135, 130]);
    expect((await store.newest(heads, 100)).map((e) => e.hash)).not.toContain(stray.hash);
    expect(await store.newest(heads, 100)).toHaveLength(10);
    expect(await store.newest([], 10)).toEqual([]);
  });

  it('logs head changes in order, lists those after a position, and keeps notes', async () => {
    const store = await make();
    const [x, y] = [await generateKeyPair(), await generateKeyPair()];
    const h = (n: number) => hashOf(new Uint8Array([n]));
    const s1 = await store.setHead({ identity: x.identity, hash: h(1), comparable: 1 });
    const s2 = await store.setHead({ identity: y.identity, hash: h(2), comparable: 2 });
    const s3 = await store.setHead({ identity: x.identity, hash: h(3), comparable: 3 });
    expect([s1, s2, s3]).toEqual([1, 2, 3]);
    expect(await store.headLog(0)).toEqual({
      seq: 3,
      heads: [
        { identity: y.identity, hash: h(2), comparable: 2 },
        { identity: x.identity, hash: h(3), comparable: 3 },
      ],
    });
    expect(await store.headLog(2)).toEqual({ seq: 3, heads: [{ identity: x.identity, hash: h(3), comparable: 3 }] });
    expect(await store.headLog(3)).toEqual({ seq: 3, heads: [] });
    const note = { peer: x.identity, at: 5, theirs: [y.identity], ours: null, epoch: 'e1', seq: 7, plain: false };
    await store.putNote(note);
    expect(await store.getNote(x.identity)).toEqual(note);
    await store.deleteNote(x.identity);
    expect(await store.getNote(x.identity)).toBeUndefined();
  });

  it(`keeps at most ${MAX_NOTES} notes, the least recently written going first`, async () => {
    const store = await make();
    const peers = await Promise.all(Array.from({ length: MAX_NOTES + 2 }, () => generateKeyPair()));
    for (const [i, p] of peers.entries())
      await store.putNote({ peer: p.identity, at: 1000 + i, theirs: [], ours: null, epoch: null, seq: 0, plain: false });
    expect(await store.getNote(peers[0]!.identity)).toBeUndefined();
    expect(await store.getNote(peers[1]!.identity)).toBeUndefined();
    expect(await store.getNote(peers[2]!.identity)).toBeDefined();
    expect(await store.getNote(peers.at(-1)!.identity)).toBeDefined();
  });
});

describe('IndexedDB store upgrade', () => {
  it('opens a version 1 store with everything in it, and logs heads from then on', async () => {
    const name = `test-v1-${++n}`;
    const { chain } = await feedOf(2);
    const head = chain[1]!;
    const v1 = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => {
        const db = r.result;
        db.createObjectStore('entries', { keyPath: 'hash' }).createIndex('byIdentity', ['identity', 'comparable']);
        db.createObjectStore('heads', { keyPath: 'identity' });
        for (const s of ['blobs', 'watch', 'inbox']) db.createObjectStore(s, { keyPath: s === 'watch' ? 'identity' : 'hash' });
        db.createObjectStore('secrets');
        db.createObjectStore('settings');
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const tx = v1.transaction(['entries', 'heads', 'watch', 'secrets'], 'readwrite');
    for (const e of chain)
      tx.objectStore('entries').put({ hash: e.hash, text: e.text, identity: e.body.identity, comparable: e.body.comparable });
    tx.objectStore('heads').put({ identity: head.body.identity, hash: head.hash, comparable: head.body.comparable });
    tx.objectStore('watch').put({ identity: head.body.identity, reasons: ['follow'] });
    tx.objectStore('secrets').put(new Uint8Array([1, 2]), 'device-seed');
    await new Promise((r) => (tx.oncomplete = r));
    v1.close();

    const { store } = await IdbStore.open(name);
    expect(await store.getHead(head.body.identity)).toEqual({
      identity: head.body.identity,
      hash: head.hash,
      comparable: head.body.comparable,
    });
    expect((await store.chain(head.hash, { limit: 10 })).map((e) => e.hash)).toEqual([head.hash, chain[0]!.hash]);
    expect(await store.watchList()).toEqual([{ identity: head.body.identity, reasons: ['follow'] }]);
    expect([...((await store.getSecret('device-seed')) ?? [])]).toEqual([1, 2]);
    // Heads from before the log count as older than any note; new changes are logged.
    expect(await store.headLog(0)).toEqual({ seq: 0, heads: [] });
    expect(await store.setHead({ identity: head.body.identity, hash: head.hash, comparable: head.body.comparable })).toBe(1);
    expect((await store.headLog(0)).heads).toHaveLength(1);
    await store.putNote({ peer: head.body.identity, at: 1, theirs: [], ours: null, epoch: null, seq: 0, plain: true });
    expect((await store.getNote(head.body.identity))?.plain).toBe(true);
    store.close();
  });
});
