/**
 * Rewrites leave evidence (src/peer/history.ts): a deletion keeps every later
 * post's time and order, says so in a rebase entry that a follower shows as
 * "rewrote N posts", keeps the superseded head, and keeps comments findable;
 * two entries with the same parent and comparable that no rebase explains are
 * recorded as an equivocation.
 */
import { describe, expect, it } from 'vitest';
import { createEntry, generateKeyPair, rebase, type Entry, type KeyPair } from '../../src/protocol/index.ts';
import type { Peer } from '../../src/peer/peer.ts';
import { eventually, headOf, link, newPeer } from './helpers.ts';

const texts = (entries: readonly Entry[]) => entries.flatMap((e) => (e.body.payload.type === 'public_note' ? [e.body.payload.text] : []));

/** Feed `entries` (head last, one chain) into a peer that follows their author, as if a link had delivered them. */
async function deliver(peer: Peer, entries: readonly Entry[]): Promise<void> {
  const identity = entries[0]!.body.identity;
  await peer.replica.watch(identity, 'follow');
  const byHash = new Map(entries.map((e) => [e.hash, e]));
  const head = entries.at(-1)!;
  const run: Entry[] = [];
  for (let at: Entry | undefined = head; at; at = at.body.parent ? byHash.get(at.body.parent) : undefined) run.push(at);
  expect(await peer.replica.accept(identity, run, 'test')).toBeNull();
  await peer.replica.considerHead(identity, head.hash);
}

const chainOf = async (keys: KeyPair, comparables: number[], parent: Entry | null = null, label = 'post'): Promise<Entry[]> => {
  const out: Entry[] = [];
  for (const c of comparables) {
    const e: Entry = await createEntry(keys, {
      parent: (out.at(-1) ?? parent)?.hash ?? null,
      comparable: c,
      synod: null,
      payload: { type: 'public_note', text: `${label} ${c}` },
    });
    out.push(e);
  }
  return out;
};

describe('rewrites leave evidence', { timeout: 20_000 }, () => {
  it('deleting an early post keeps the later ones in their time and order, and a follower sees the rewrite and keeps the old head', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const posts: Entry[] = [];
    for (let i = 0; i < 5; i++) posts.push(await alice.postNote(`post ${i}`));
    await bob.follow(alice.identity);
    await link(alice, bob);
    await eventually(async () => (await headOf(bob, alice.identity)) === posts[4]!.hash, 5000, 'bob to follow');
    // Bob comments on post 3, which the rewrite will rename.
    const comment = await bob.comment({ entry: posts[3]!.hash, identity: alice.identity }, 'nice');

    const published = await alice.deleteEntries([posts[1]!.hash]);
    const rebaseEntry = published.at(-1)!;
    await eventually(async () => (await headOf(bob, alice.identity)) === rebaseEntry.hash, 5000, 'bob to take the rewrite');

    const feed = await bob.feed(alice.identity, 10);
    expect(texts(feed)).toEqual(['post 4', 'post 3', 'post 2', 'post 0']);
    // Each post keeps its original time.
    const before = new Map(posts.map((p) => [p.body.payload.type === 'public_note' && p.body.payload.text, p.body.comparable]));
    for (const e of feed.filter((x) => x.body.payload.type === 'public_note'))
      expect(e.body.comparable).toBe(before.get(e.body.payload.type === 'public_note' && e.body.payload.text));

    // The superseded head is kept as evidence (asynchronously, after the head moved).
    await eventually(async () => (await bob.history.of(alice.identity)).rewrites[0]?.seen === true, 2000, 'evidence');
    const history = await bob.history.of(alice.identity);
    expect(history.rewrites).toEqual([{ from: posts[4]!.hash, date: rebaseEntry.body.comparable, rewritten: 3, removed: 1, seen: true }]);
    expect(history.conflicts).toEqual([]);
    // The comment still finds its post under its new name.
    const target = comment.body.payload.type === 'comment' ? comment.body.payload.target : null;
    const renamed = bob.history.currentName(target!);
    expect(renamed).not.toBe(posts[3]!.hash);
    expect(feed.find((e) => e.hash === renamed)?.body.payload).toEqual(posts[3]!.body.payload);
  });

  it('two entries with the same parent and comparable, no rebase between them: an equivocation, recorded', async () => {
    const bob = await newPeer();
    const mallory = await generateKeyPair();
    const [root] = await chainOf(mallory, [100]);
    const [left] = await chainOf(mallory, [200], root!, 'left');
    const [right] = await chainOf(mallory, [200], root!, 'right');
    await deliver(bob, [root!, left!]);
    await deliver(bob, [root!, right!]);
    await eventually(async () => (await bob.history.of(mallory.identity)).conflicts.length > 0, 2000, 'the equivocation');
    const [conflict] = (await bob.history.of(mallory.identity)).conflicts;
    expect(conflict?.kind).toBe('equivocation');
    expect(new Set(conflict?.pair)).toEqual(new Set([left!.hash, right!.hash]));
    expect([left!.text, right!.text]).toContain(conflict?.old.text);
  });

  it('a rewrite without a rebase entry is recorded as an unexplained fork (positive control: with one, it is a rewrite)', async () => {
    const bob = await newPeer();
    const author = await generateKeyPair();
    const old = await chainOf(author, [100, 200, 300]);
    await deliver(bob, old);
    // Re-signed onto the root with a higher comparable, and no rebase entry: the past changed silently.
    const silent = await chainOf(author, [400], old[0]!, 'silent');
    await deliver(bob, [old[0]!, ...silent]);
    await eventually(async () => (await bob.history.of(author.identity)).conflicts.length > 0, 2000, 'the fork');
    expect((await bob.history.of(author.identity)).conflicts.map((c) => c.kind)).toEqual(['fork']);
    expect((await bob.history.of(author.identity)).rewrites).toEqual([]);
  });

  it('a re-signed entry seen before its rebase entry is first a fork, then explained by the rebase entry', async () => {
    const bob = await newPeer();
    const author = await generateKeyPair();
    const old = await chainOf(author, [100, 200, 300]);
    await deliver(bob, old);
    const rewritten = await rebase(author, old, new Set([old[1]!.hash]), { now: 1 });
    const [resigned, last] = rewritten;
    // The re-signed entry alone ties with the old head (comparable 300): whichever wins, the other branch is unexplained.
    await deliver(bob, [old[0]!, resigned!]);
    await eventually(async () => (await bob.history.of(author.identity)).conflicts.length === 1, 2000, 'the fork');
    await deliver(bob, [old[0]!, resigned!, last!]);
    await eventually(async () => (await bob.history.of(author.identity)).conflicts.length === 0, 2000, 'the explanation');
    expect((await bob.history.of(author.identity)).rewrites).toEqual([
      { from: old[2]!.hash, date: last!.body.comparable, rewritten: 1, removed: 1, seen: expect.any(Boolean) },
    ]);
    expect((await headOf(bob, author.identity)) === last!.hash).toBe(true);
  });
});
