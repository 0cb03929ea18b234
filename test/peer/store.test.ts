/** Both Store homes pass the same contract: the IndexedDB one through fake-indexeddb here, real Chromium in e2e. */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IdbStore } from '../../src/peer/idb-store.ts';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import type { Store } from '../../src/peer/store.ts';
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
