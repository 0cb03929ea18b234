/** Feeds stream in windows, blobs travel as bytes where they can, and answers we asked for never count as floods. */
import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../src/peer/channel.ts';
import { authenticate } from '../../src/peer/session.ts';
import { encodeBlobChunk, encodeWire, generateKeyPair, hashOf, LIMITS, type Entry } from '../../src/protocol/index.ts';
import { eventually, headOf, newPeer, tappedLink } from './helpers.ts';

const notes = async (peer: Awaited<ReturnType<typeof newPeer>>, n: number, prefix = 'note'): Promise<Entry[]> => {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push(await peer.postNote(`${prefix} ${i}`));
  return out;
};

describe('feeds over a link', () => {
  it('a long feed arrives in a few streamed windows, not a request per frame', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const posted = await notes(alice, 3000);
    await bob.follow(alice.identity);
    const tap = await tappedLink(alice, bob);
    await eventually(async () => (await headOf(bob, alice.identity)) === posted.at(-1)!.hash, 30_000, 'the whole feed');
    expect((await bob.feed(alice.identity, 5000)).map((e) => e.hash)).toEqual(posted.map((e) => e.hash).reverse());
    const asked = tap.frames.filter((f) => f.from === 'b' && f.message.type === 'get_feed');
    const answered = tap.frames.filter((f) => f.from === 'a' && f.message.type === 'entries');
    expect(answered.length).toBeGreaterThan(15); // many frames...
    expect(asked.length).toBeLessThanOrEqual(3); // ...in a few windows
    expect(answered.filter((f) => f.message.more === true).length).toBe(answered.length - asked.length);
    expect(asked.every((f) => (f.message.limit as number) > LIMITS.feedBatch)).toBe(true);
  }, 30_000);

  it('a pull cut short resumes: the gap below what it holds is filled on the next link', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const posted = await notes(alice, 2500);
    await bob.follow(alice.identity);
    // The link drops as bob asks for the second window: he holds the newest entries, not the chain below them.
    let asked = 0;
    await tappedLink(alice, bob, { cutAt: (from, m) => from === 'b' && m.type === 'get_feed' && ++asked === 2 });
    await eventually(() => asked === 2 && bob.links().length === 0, 20_000, 'the cut');
    await eventually(
      async () => (await bob.replica.store.hasEntry(posted.at(-1)!.hash)) && !(await bob.replica.store.hasEntry(posted[0]!.hash)),
    );
    expect(await headOf(bob, alice.identity)).not.toBe(posted.at(-1)!.hash);
    const again = await tappedLink(alice, bob);
    await eventually(async () => (await headOf(bob, alice.identity)) === posted.at(-1)!.hash, 30_000, 'the rest of the feed');
    expect(await bob.feed(alice.identity, 5000)).toHaveLength(2500);
    // Only what was missing travelled the second time.
    const resent = again.frames.filter((f) => f.from === 'a' && f.message.type === 'entries').flatMap((f) => f.message.entries as string[]);
    expect(resent.length).toBeLessThan(2500);
    expect(resent).not.toContain(posted.at(-1)!.text);
  }, 30_000);

  it('answers a get_feed of at most 256 with one frame, as rooms and older peers expect', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const posted = await notes(alice, 300, `${'long '.repeat(60)} note`);
    await tappedLink(alice, bob);
    const reply = await bob.mesh.linkTo(alice.identity)!.request({
      type: 'get_feed',
      identity: alice.identity,
      from: posted.at(-1)!.hash,
      known: null,
      limit: 256,
    });
    expect(reply.type).toBe('entries');
    if (reply.type !== 'entries') return;
    expect(reply.more).toBeUndefined();
    expect(reply.entries.length).toBeGreaterThan(0);
    expect(reply.entries.length).toBeLessThan(256); // the frame filled first
  });

  it('the timeline merges followed feeds newest first, and a deleted entry leaves it', async () => {
    const [alice, carol, bob] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    const a = await notes(alice, 3, 'alice');
    const c = await notes(carol, 3, 'carol');
    await bob.follow(alice.identity);
    await bob.follow(carol.identity);
    await tappedLink(alice, bob);
    await tappedLink(carol, bob);
    await eventually(async () => (await headOf(bob, alice.identity)) === a[2]!.hash && (await headOf(bob, carol.identity)) === c[2]!.hash);
    const text = (e: Entry) => (e.body.payload.type === 'public_note' ? e.body.payload.text : e.body.payload.type);
    const all = [...a, ...c].sort((x, y) => y.body.comparable - x.body.comparable || (x.hash < y.hash ? -1 : 1));
    // Bob's own feed (his follows) is in his timeline too: leave it aside.
    const theirs = async (n: number) => (await bob.timeline(n)).filter((e) => e.body.identity !== bob.identity).map(text);
    expect(await theirs(100)).toEqual(all.map(text));
    const rewritten = await alice.deleteEntries([a[1]!.hash]);
    await eventually(async () => (await headOf(bob, alice.identity)) === rewritten.at(-1)!.hash);
    const after = await theirs(100);
    expect(after).not.toContain('alice 1');
    expect(after.filter((t) => t.startsWith('alice'))).toEqual(['alice 2', 'alice 0']);
  });
});

describe('blobs over a link', () => {
  it('travel as binary chunks where the channel carries them, as base64url frames where not', async () => {
    const bytes = Uint8Array.from({ length: 1_000_000 }, (_, i) => (i * 7 + (i >> 9)) & 0xff);
    for (const binary of [true, false]) {
      const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
      const ref = await alice.addBlob(bytes);
      const tap = await tappedLink(alice, bob, { binary });
      const got = await bob.getBlob(ref);
      expect(hashOf(got)).toBe(ref.hash);
      const chunks = tap.binary.filter((b) => b.from === 'a').length;
      const frames = tap.frames.filter((f) => f.from === 'a' && f.message.type === 'blob').length;
      expect([chunks, frames]).toEqual(
        binary ? [Math.ceil(bytes.length / LIMITS.blobBinaryBytes), 0] : [0, Math.ceil(bytes.length / LIMITS.blobChunkBytes)],
      );
    }
  });

  it('a large blob arriving at full speed is no flood; the same number of frames unasked is', async () => {
    // More chunks than the flood burst (400 frames), all at once over a fast channel.
    const bytes = new Uint8Array(LIMITS.blobChunkBytes * 450);
    for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    const ref = await alice.addBlob(bytes);
    const tap = await tappedLink(alice, bob, { binary: false });
    expect(hashOf(await bob.getBlob(ref))).toBe(ref.hash);
    expect(bob.links().map((l) => l.identity)).toEqual([alice.identity]);
    expect(tap.channels[1].closed).toBe(false);

    // Control: 450 blob frames nobody asked for, from another peer, are cut off.
    const mallory = await generateKeyPair();
    const [evil, good] = memoryPair();
    const adopted = bob.mesh.adopt(good, { endpoint: 'memory:test', room: 'memory' });
    await authenticate(evil, { keys: mallory, endpoint: 'memory:test', head: null });
    await adopted;
    evil.read(() => undefined);
    const chunk = { type: 'blob', re: 'b1', hash: ref.hash, offset: 0, total: 3, data: 'YWJj' } as const;
    for (let i = 0; i < 450 && !good.closed; i++) evil.send(encodeWire(chunk));
    await eventually(() => good.closed, 5000, 'the unasked chunks to be cut off');
  }, 30_000);

  it('a binary chunk answering nothing we asked for is a strike', async () => {
    const bob = await newPeer();
    const mallory = await generateKeyPair();
    const [evil, good] = memoryPair();
    const adopted = bob.mesh.adopt(good, { endpoint: 'memory:test', room: 'memory' });
    await authenticate(evil, { keys: mallory, endpoint: 'memory:test', head: null });
    await adopted;
    evil.read(() => undefined);
    for (let i = 0; i < 5; i++) evil.sendBytes(encodeBlobChunk({ re: `b${i}`, offset: 0, total: 1, data: new Uint8Array([1]) }));
    await eventually(() => good.closed, 5000, 'five strikes to close the link');
  });
});
