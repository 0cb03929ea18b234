import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';

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
});
