import { describe, expect, it } from 'vitest';
import {
  compareEntries,
  compareHeads,
  createEntry,
  Feed,
  generateKeyPair,
  nextComparable,
  rankOf,
  rebase,
  traceChain,
  type Entry,
} from '../../src/protocol/index.ts';
import { chainOf, note } from './helpers.ts';

const keys = await generateKeyPair();
const other = await generateKeyPair();

const feedOf = (entries: Entry[]) => {
  const f = new Feed(keys.identity);
  for (const e of entries) f.add(e);
  return f;
};

describe('feeds', () => {
  it('orders by comparable, head is the highest, walks head to root', async () => {
    const chain = await chainOf(keys, 5);
    const feed = feedOf([...chain].reverse()); // arrival order does not matter
    expect(feed.head()?.hash).toBe(chain[4]?.hash);
    expect(feed.chain().map((e) => e.hash)).toEqual(chain.map((e) => e.hash));
  });

  it('a head whose ancestry is missing is not the head yet; trace names what to fetch', async () => {
    const chain = await chainOf(keys, 4);
    const feed = feedOf([chain[0] as Entry, chain[1] as Entry, chain[3] as Entry]);
    expect(feed.head()?.hash).toBe(chain[1]?.hash);
    const trace = traceChain(chain[3] as Entry, (h) => feed.get(h));
    expect(trace.status === 'missing' && trace.missing).toBe(chain[2]?.hash);
  });

  it('rejects entries of another identity', async () => {
    const [e] = await chainOf(other, 1);
    const r = new Feed(keys.identity).add(e as Entry);
    expect(!r.ok && r.error.code).toBe('wrong_identity');
  });

  it('breaks the chain when comparable does not rise', async () => {
    const [root] = await chainOf(keys, 1, 100);
    const child = await createEntry(keys, { parent: root!.hash, comparable: 100, synod: null, payload: note('same') });
    const trace = traceChain(child, (h) => (h === root!.hash ? root : undefined));
    expect(trace.status === 'broken' && trace.error.code).toBe('broken_chain');
    expect(feedOf([root!, child]).head()?.hash).toBe(root!.hash);
  });

  it('breaks the chain when a parent belongs to another identity', async () => {
    const [foreign] = await chainOf(other, 1, 1);
    const child = await createEntry(keys, { parent: foreign!.hash, comparable: 5, synod: null, payload: note('x') });
    const trace = traceChain(child, () => foreign);
    expect(trace.status).toBe('broken');
  });

  it('breaks ties in comparable by hash, the same way everywhere', async () => {
    const a = await createEntry(keys, { parent: null, comparable: 7, synod: null, payload: note('a') });
    const b = await createEntry(keys, { parent: null, comparable: 7, synod: null, payload: note('b') });
    const expected = a.hash < b.hash ? a.hash : b.hash;
    expect(feedOf([a, b]).head()?.hash).toBe(expected);
    expect(feedOf([b, a]).head()?.hash).toBe(expected);
  });

  it('ranks a stored head (hash and comparable, no entry) by the same rule as entries', async () => {
    const a = await createEntry(keys, { parent: null, comparable: 10, synod: null, payload: note('a') });
    const b = await createEntry(keys, { parent: null, comparable: 10, synod: null, payload: note('b') });
    const c = await createEntry(keys, { parent: null, comparable: 11, synod: null, payload: note('c') });
    for (const [x, y] of [
      [a, b],
      [a, c],
      [c, b],
      [a, a],
    ] as const) {
      expect(Math.sign(compareHeads(rankOf(x), { hash: y.hash, comparable: y.body.comparable }))).toBe(Math.sign(compareEntries(x, y)));
    }
    expect(compareHeads(rankOf(c), rankOf(a))).toBeLessThan(0);
    expect(compareHeads(rankOf(a), rankOf(a))).toBe(0);
    expect(compareHeads({ hash: a.hash, comparable: 9 }, rankOf(a))).toBeGreaterThan(0);
  });

  it('never runs the comparable clock backwards', async () => {
    const [root] = await chainOf(keys, 1, 5000);
    expect(nextComparable(root!, 10)).toBe(5001);
    expect(nextComparable(null, 10)).toBe(10);
  });
});

describe('rebase (deletion)', () => {
  const texts = (f: Feed) => f.chain().flatMap((e) => (e.body.payload.type === 'public_note' ? [e.body.payload.text] : []));

  it('re-signs the successors with their own comparables, maps old names to new, and a rebase entry outranks the old head', async () => {
    const chain = await chainOf(keys, 5);
    const victim = chain[2] as Entry;
    const rewritten = await rebase(keys, chain, new Set([victim.hash]), { now: 1 });
    expect(rewritten.map((e) => e.body.payload.type)).toEqual(['public_note', 'public_note', 'rebase']);
    // Original time and order: the re-signed entries keep their comparables.
    expect(rewritten.slice(0, 2).map((e) => e.body.comparable)).toEqual([chain[3]!.body.comparable, chain[4]!.body.comparable]);
    const last = rewritten[2]!;
    expect(last.body.payload).toEqual({
      type: 'rebase',
      from: chain[4]!.hash,
      map: [
        [chain[3]!.hash, rewritten[0]!.hash],
        [chain[4]!.hash, rewritten[1]!.hash],
      ],
      removed: [victim.hash],
    });
    expect(last.body.comparable).toBe(chain[4]!.body.comparable + 1);
    const feed = feedOf([...chain, ...rewritten]);
    expect(texts(feed)).toEqual(['note 0', 'note 1', 'note 3', 'note 4']);
    expect(feed.head()?.hash).toBe(last.hash);
    expect(compareHeads(rankOf(last), rankOf(chain[4]!))).toBeLessThan(0); // outranks: a room that refuses rollbacks takes it
    expect(feed.get(victim.hash)).toBeDefined(); // orphans stay addressable
  });

  it('without the rebase entry the new chain would only tie with the old head (positive control)', async () => {
    const chain = await chainOf(keys, 3);
    const rewritten = await rebase(keys, chain, new Set([chain[0]!.hash]), { now: 1 });
    const resigned = rewritten.filter((e) => e.body.payload.type !== 'rebase');
    // Same comparable as the old head: only the hash tie-break would choose, a coin flip per rewrite.
    expect(resigned.at(-1)!.body.comparable).toBe(chain[2]!.body.comparable);
    expect(feedOf([...chain, ...rewritten]).head()?.body.payload.type).toBe('rebase');
  });

  it('deleting the newest entry re-signs nothing: the rebase entry sits on the kept prefix', async () => {
    const chain = await chainOf(keys, 3);
    const rewritten = await rebase(keys, chain, new Set([chain[2]!.hash]), { now: 1 });
    expect(rewritten).toHaveLength(1);
    expect(rewritten[0]!.body.parent).toBe(chain[1]!.hash);
    const feed = feedOf([...chain, ...rewritten]);
    expect(texts(feed)).toEqual(['note 0', 'note 1']);
    expect(feed.head()!.body.comparable).toBeGreaterThan(chain[2]!.body.comparable);
  });

  it('deleting the root rebuilds the chain from a new root', async () => {
    const chain = await chainOf(keys, 3);
    const rewritten = await rebase(keys, chain, new Set([chain[0]!.hash]), { now: 1 });
    expect(rewritten[0]?.body.parent).toBeNull();
    expect(texts(feedOf([...chain, ...rewritten]))).toEqual(['note 1', 'note 2']);
  });

  it('deleting every entry leaves the rebase entry as the root', async () => {
    const chain = await chainOf(keys, 2);
    const rewritten = await rebase(keys, chain, new Set(chain.map((e) => e.hash)), { now: 1 });
    expect(rewritten).toHaveLength(1);
    expect(rewritten[0]!.body.parent).toBeNull();
    expect(feedOf([...chain, ...rewritten]).head()?.hash).toBe(rewritten[0]!.hash);
  });

  it('a long rewrite spreads its map over several rebase entries, the last one the head', async () => {
    const chain = await chainOf(keys, 140);
    const rewritten = await rebase(keys, chain, new Set([chain[0]!.hash]), { now: 1 });
    const rebases = rewritten.filter((e) => e.body.payload.type === 'rebase');
    expect(rebases).toHaveLength(2);
    const named = rebases.flatMap((e) => (e.body.payload.type === 'rebase' ? [...e.body.payload.map, ...e.body.payload.removed] : []));
    expect(named).toHaveLength(140);
    expect(feedOf([...chain, ...rewritten]).head()?.hash).toBe(rebases[1]!.hash);
  });
});
