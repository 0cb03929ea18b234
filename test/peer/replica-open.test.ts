import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import type { Store } from '../../src/peer/store.ts';

/** Counts the entries a store hands out: opening must not read feeds that are not synods. */
function counting(store: MemoryStore): { store: Store; read: () => number } {
  let read = 0;
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const out: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
        if (name === 'getEntry' && out) read++;
        if (name === 'chain' || name === 'entriesOf' || name === 'newest') read += (out as unknown[]).length;
        return out;
      };
    },
  });
  return { store: counted, read: () => read };
}

describe('reopening a store', () => {
  it('keeps device feeds apart from synods, so profiles still resolve', async () => {
    const store = new MemoryStore();
    const first = await Peer.open({ store });
    await first.createSynod({ name: 'Alice' });
    await first.postNote('hello');
    first.close();

    const again = await Peer.open({ store });
    expect(again.synodState(again.identity)).toBeUndefined();
    expect(again.synodState()?.devices.has(again.identity)).toBe(true);
    expect((await again.profileOf(again.identity)).name).toBe('Alice');
    again.close();
  });

  it('reads only the synod feeds it knows of, not every followed feed; a store from before that list is scanned once', async () => {
    const store = new MemoryStore();
    const first = await Peer.open({ store });
    await first.createSynod({ name: 'Alice' });
    const author = await Peer.open({ store: new MemoryStore() });
    for (let i = 0; i < 50; i++) await author.postNote(`note ${i}`);
    const feed = await author.feed(author.identity, 100);
    await first.follow(author.identity);
    await first.replica.accept(author.identity, feed, 'test');
    await first.replica.considerHead(author.identity, feed[0]!.hash, feed.at(-1));
    first.close();

    // As a store written before the list existed: the first open reads every watched feed to find the synods.
    await store.putSetting('synods', undefined);
    const older = counting(store);
    const upgraded = await Peer.open({ store: older.store });
    expect(upgraded.synodState()?.profile.name).toBe('Alice');
    expect(older.read()).toBeGreaterThanOrEqual(50);
    expect(await store.getSetting('synods')).toEqual([upgraded.synodIdentity]);
    upgraded.close();

    // From then on only the synod's chain (a few entries) is read.
    const later = counting(store);
    const again = await Peer.open({ store: later.store });
    expect(again.synodState()?.profile.name).toBe('Alice');
    expect(later.read()).toBeLessThan(10);
    again.close();
  });
});
