/**
 * The follower index: a feed follows us when the latest follow or block of
 * us along its head chain is a follow. Feeds stored before the index existed
 * are found by its one background scan; feeds arriving later by their entries.
 */
import { describe, expect, it } from 'vitest';
import { FollowerIndex } from '../../src/peer/followers.ts';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Replica } from '../../src/peer/replica.ts';
import { generateKeyPair, type Identity } from '../../src/protocol/index.ts';
import { newPeer } from './helpers.ts';

/** Put `peer`'s feed into `store` behind the replica's back, as an older version of the app would have left it. */
async function storedBefore(store: MemoryStore, peer: Awaited<ReturnType<typeof newPeer>>): Promise<void> {
  const chain = await peer.replica.chain(peer.identity);
  for (const e of chain) await store.putEntry(e);
  const head = chain.at(-1)!;
  await store.setHead({ identity: peer.identity, hash: head.hash, comparable: head.body.comparable });
}

describe('follower index', () => {
  it('finds a follower stored before it existed by one scan, and not a feed that never named us', async () => {
    const me = (await generateKeyPair()).identity;
    const [fan, other] = [await newPeer(), await newPeer()];
    await fan.postNote('hello');
    await fan.follow(me);
    await other.follow((await generateKeyPair()).identity);
    const store = new MemoryStore();
    await storedBefore(store, fan);
    await storedBefore(store, other);
    const index = new FollowerIndex(await Replica.open(store), () => [me]);
    await index.open();
    expect(index.followers()).toEqual([]);
    expect(await index.catchUp()).toBe(true);
    expect(index.followers()).toEqual([fan.identity]);
  });

  it('follows the latest stance along the chain as the head moves: a block after a follow, then a follow again', async () => {
    const me: Identity = (await generateKeyPair()).identity;
    const fan = await newPeer();
    const mine = await Replica.open(new MemoryStore());
    const index = new FollowerIndex(mine, () => [me]);
    await index.open();
    const copy = async () => {
      const chain = await fan.replica.chain(fan.identity);
      await mine.accept(fan.identity, [...chain].reverse(), 'test');
      const head = await mine.considerHead(fan.identity, chain.at(-1)!.hash);
      return index.update(head!);
    };
    await fan.postNote('not about you');
    expect(await copy()).toBe(false);
    await fan.follow(me);
    expect(await copy()).toBe(true);
    expect(index.follows(fan.identity)).toBe(true);
    await fan.block(me);
    expect(await copy()).toBe(true);
    expect(index.follows(fan.identity)).toBe(false);
    await fan.follow(me);
    await copy();
    expect(index.follows(fan.identity)).toBe(true);
  });
});
