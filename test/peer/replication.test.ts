import { describe, expect, it } from 'vitest';
import { hashOf, type Entry } from '../../src/protocol/index.ts';
import { eventually, headOf, link, newPeer } from './helpers.ts';

const notes = async (peer: Awaited<ReturnType<typeof newPeer>>, n: number, prefix = 'note'): Promise<Entry[]> => {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push(await peer.postNote(`${prefix} ${i}`));
  return out;
};

describe('replication between two peers', () => {
  it('a follower pulls a 1,000-entry feed, validated, in order', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const posted = await notes(alice, 1000);
    await bob.follow(alice.identity);
    await link(alice, bob);
    await eventually(async () => (await headOf(bob, alice.identity)) === posted.at(-1)!.hash, 20_000, "bob to reach alice's head");
    const feed = await bob.feed(alice.identity, 2000);
    expect(feed).toHaveLength(1000);
    expect(feed.map((e) => e.hash)).toEqual(posted.map((e) => e.hash).reverse());
  });

  it('new entries reach a linked follower as they are posted', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    await bob.follow(alice.identity);
    await link(alice, bob);
    const first = await alice.postNote('live one');
    await eventually(async () => (await headOf(bob, alice.identity)) === first.hash, 5000, 'first live entry');
    const second = await alice.postNote('live two');
    await eventually(async () => (await headOf(bob, alice.identity)) === second.hash, 5000, 'second live entry');
  });

  it('following after the link is up starts replication', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const [e] = await notes(alice, 1);
    await link(alice, bob);
    expect(await headOf(bob, alice.identity)).toBeUndefined(); // not watched: not replicated
    await bob.follow(alice.identity);
    await eventually(async () => (await headOf(bob, alice.identity)) === e!.hash, 5000, 'follow to replicate');
  });

  it('three peers: a feed travels A → B → C through the middle peer', async () => {
    const [a, b, c] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    await b.follow(a.identity);
    await c.follow(a.identity);
    const posted = await notes(a, 50);
    await link(a, b);
    await eventually(async () => (await headOf(b, a.identity)) === posted.at(-1)!.hash, 5000, 'B');
    await link(b, c); // C never meets A: every client is a pub
    await eventually(async () => (await headOf(c, a.identity)) === posted.at(-1)!.hash, 5000, 'C');
  });

  it('blobs travel by hash with progress, and any peer serves them', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const bytes = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
    const ref = await alice.addBlob(bytes);
    await alice.publish({ type: 'image', blob: ref, mime: 'image/png' });
    await link(alice, bob);
    const progress: number[] = [];
    bob.events.on('blob', (p) => progress.push(p.done));
    const got = await bob.getBlob(ref);
    expect(hashOf(got)).toBe(ref.hash);
    expect(progress.at(-1)).toBe(200_000);
    expect(progress.length).toBeGreaterThan(3);
    await expect(bob.getBlob({ hash: hashOf(new Uint8Array([1])), size: 1 })).rejects.toThrow(/no connected peer/);
  });

  it('a rebase (deletion) propagates: the new head supersedes, the deleted entry leaves the feed', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    await bob.follow(alice.identity);
    const posted = await notes(alice, 5);
    await link(alice, bob);
    await eventually(async () => (await headOf(bob, alice.identity)) === posted[4]!.hash, 5000, 'initial sync');
    const rewritten = await alice.deleteEntries([posted[2]!.hash]);
    await eventually(async () => (await headOf(bob, alice.identity)) === rewritten.at(-1)!.hash, 5000, 'rebase');
    const feed = await bob.feed(alice.identity);
    expect(feed[0]?.body.payload.type).toBe('rebase');
    const texts = feed.flatMap((e) => (e.body.payload.type === 'public_note' ? [e.body.payload.text] : []));
    expect(texts).toEqual(['note 4', 'note 3', 'note 1', 'note 0']);
    expect(await bob.replica.store.getEntry(posted[2]!.hash)).toBeDefined(); // the orphan stays addressable
  });

  it('a blocked peer is not served: the link that served him closes, and a new one is refused', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const posted = await notes(alice, 3);
    await bob.follow(alice.identity);
    // Control: unblocked, this very setup serves bob.
    const [, first] = await link(alice, bob);
    await eventually(async () => (await headOf(bob, alice.identity)) === posted[2]!.hash, 5000, 'bob to be served before the block');

    await alice.block(bob.identity);
    await eventually(() => first.closed, 5000, 'the block to close the link');
    const later = await alice.postNote('after the block');
    const [atAlice, atBob] = await link(alice, bob);
    await eventually(() => atAlice.closed && atBob.closed, 5000, 'alice to refuse the new link');
    // Both channels are closed, so nothing more can arrive: what bob holds now is final.
    expect(await headOf(bob, alice.identity)).toBe(posted[2]!.hash);
    expect(await bob.replica.store.hasEntry(later.hash)).toBe(false);
  });

  it('a link still up answers a blocked peer with forbidden', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const [note] = await notes(alice, 1);
    await link(alice, bob);
    const ask = () =>
      bob.mesh.linkTo(alice.identity)!.request({ type: 'get_feed', identity: alice.identity, from: note!.hash, known: null, limit: 10 });
    const heads = () => bob.mesh.linkTo(alice.identity)!.request({ type: 'get_heads', identities: [alice.identity] });
    // Control: the same requests are served before the block.
    expect(await ask()).toMatchObject({ type: 'entries', identity: alice.identity, entries: [note!.text] });
    expect(await heads()).toMatchObject({ type: 'last_known_heads', heads: [[alice.identity, note!.hash]] });
    // What block() records first; it also closes the link, which this test keeps open to see the refusal.
    await alice.replica.setBlocked(bob.identity, true);
    expect(await ask()).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await heads()).toMatchObject({ type: 'last_known_heads', heads: [] });
  });
});
