/**
 * Private feeds in the engine (src/peer/private-feed.ts): an approved
 * follower reads, a removed one reads nothing new, a stranger replicates and
 * validates the same sealed entries without reading them.
 */
import { describe, expect, it } from 'vitest';
import type { Peer } from '../../src/peer/peer.ts';
import type { ReadableEntry } from '../../src/peer/private-feed.ts';
import { eventually, headOf, link, newPeer } from './helpers.ts';

const readable = (feed: readonly ReadableEntry[]) =>
  feed.flatMap((e) => (e.body.payload.type === 'public_note' ? [e.body.payload.text] : []));
const closed = (feed: readonly ReadableEntry[]) => feed.filter((e) => e.sealed === 'closed').length;

async function caughtUp(reader: Peer, author: Peer): Promise<void> {
  await eventually(async () => (await headOf(reader, author.identity)) === (await headOf(author, author.identity)), 5000, 'replication');
  await reader.privateFeed.settled();
}

describe('private feeds', { timeout: 20_000 }, () => {
  it('an approved follower reads, a removed one reads nothing new, a stranger holds the entries unread', async () => {
    const [alice, bob, carol, dave] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer()]);
    await alice.postNote('public before');
    await alice.privateFeed.setPrivate(true);
    await alice.privateFeed.approve(bob.identity);
    await alice.privateFeed.approve(carol.identity);
    const first = await alice.postNote('for followers');
    expect(first.body.payload.type).toBe('sealed');
    // Relations stay in the clear.
    expect((await alice.follow(bob.identity)).body.payload.type).toBe('follow');

    for (const p of [bob, carol, dave]) {
      await p.follow(alice.identity);
      await link(alice, p);
      await caughtUp(p, alice);
    }
    expect(readable(await bob.feed(alice.identity))).toEqual(['for followers', 'public before']);
    expect(readable(await carol.feed(alice.identity))).toEqual(['for followers', 'public before']);
    // Dave holds and validated every entry (its head is alice's), and reads only the public one.
    const daveFeed = await dave.feed(alice.identity);
    expect(daveFeed.map((e) => e.hash)).toEqual((await alice.replica.feed(alice.identity, 50)).map((e) => e.hash));
    expect(readable(daveFeed)).toEqual(['public before']);
    expect(closed(daveFeed)).toBe(1);

    await alice.privateFeed.remove(carol.identity);
    const second = await alice.postNote('after carol left');
    for (const p of [bob, carol]) await caughtUp(p, alice);
    expect(readable(await bob.feed(alice.identity))).toEqual(['after carol left', 'for followers', 'public before']);
    // Carol keeps what she could read, and cannot read what came after.
    const carolFeed = await carol.feed(alice.identity);
    expect(readable(carolFeed)).toEqual(['for followers', 'public before']);
    expect(carolFeed.find((e) => e.hash === second.hash)?.sealed).toBe('closed');

    // Public again: new posts are readable by everyone.
    await alice.privateFeed.setPrivate(false);
    await alice.postNote('public after');
    await caughtUp(dave, alice);
    expect(readable(await dave.feed(alice.identity))[0]).toBe('public after');
  });

  it('a follower approved later reads the earlier private posts too', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    await alice.privateFeed.setPrivate(true);
    await alice.postNote('early secret');
    await alice.privateFeed.remove(bob.identity); // not a follower: nothing happens
    await alice.privateFeed.approve(bob.identity);
    await bob.follow(alice.identity);
    await link(alice, bob);
    await caughtUp(bob, alice);
    expect(readable(await bob.feed(alice.identity))).toEqual(['early secret']);
  });
});
