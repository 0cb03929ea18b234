/** iwant lists and sharing reciprocity (docs/protocol.md §13.10), on peers in memory. */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import { BusyError, GRACE, Reciprocity } from '../../src/peer/reciprocity.ts';
import type { Conditions } from '../../src/peer/wants.ts';
import { generateKeyPair, type Identity } from '../../src/protocol/index.ts';
import { eventually, link, newPeer, tappedLink } from './helpers.ts';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** S serves one blob at a time; `gift` makes A give S a blob first. Returns the order in which S served A and B while busy. */
async function serveOrder(gift: boolean): Promise<string[]> {
  const s = await Peer.open({ store: new MemoryStore(), serveSlots: 1 });
  const [a, b] = await Promise.all([newPeer(), newPeer()]);
  await Promise.all([link(s, a), link(s, b)]);
  if (gift) {
    const x = await a.addBlob(bytes(200_000, 1));
    await s.getBlob(x);
    expect(s.reciprocity.ratio(a.identity)).toBeGreaterThan(1);
  }
  const y = await s.addBlob(bytes(50_000, 2));
  const order: string[] = [];
  s.reciprocity.events.on('changed', (who) => {
    const name = who === a.identity ? 'A' : who === b.identity ? 'B' : null;
    if (name && s.reciprocity.standings().find((st) => st.identity === who)?.served) if (!order.includes(name)) order.push(name);
  });
  // Busy: the one slot is taken.
  const release = await s.reciprocity.acquire((await generateKeyPair()).identity);
  const fromB = b.getBlob(y);
  await eventually(() => s.reciprocity.queued === 1, 5000, "B's request to wait");
  const fromA = a.getBlob(y);
  await eventually(() => s.reciprocity.queued === 2, 5000, "A's request to wait");
  release();
  await Promise.all([fromA, fromB]);
  s.close();
  return order;
}

describe('reciprocity (§13.10)', { timeout: 30_000 }, () => {
  it('books bytes served and received per identity on both sides', async () => {
    const [a, b] = await Promise.all([newPeer(), newPeer()]);
    await link(a, b);
    const ref = await a.addBlob(bytes(100_000, 3));
    await b.getBlob(ref);
    await eventually(() => a.reciprocity.standings().some((s) => s.identity === b.identity && s.served === 100_000), 5000, 'A to book');
    const atB = b.reciprocity.standings().find((s) => s.identity === a.identity);
    expect(atB).toMatchObject({ received: 100_000, served: 0 });
    expect(atB?.ratio).toBeCloseTo((100_000 + GRACE) / GRACE, 6);
    expect(a.reciprocity.ratio(b.identity)).toBeCloseTo(GRACE / (100_000 + GRACE), 6);
  });

  it('when busy, serves the identity that gave more first; without the gift, first come first served (positive control)', async () => {
    expect(await serveOrder(true)).toEqual(['A', 'B']);
    expect(await serveOrder(false)).toEqual(['B', 'A']);
  });

  it('the account’s own devices go before everyone; too many waiting requests are refused as busy', async () => {
    const ids = await Promise.all([0, 1, 2].map(async () => (await generateKeyPair()).identity));
    const [own, giver, stranger] = ids as [Identity, Identity, Identity];
    const r = new Reciprocity(new MemoryStore(), { slots: 1, favoured: (i) => i === own });
    r.received(giver, 1_000_000);
    const hold = await r.acquire(stranger);
    const started: Identity[] = [];
    // Each one, once started, notes its turn and frees the slot for the next.
    const waits = [stranger, giver, own].map((i) => r.acquire(i).then((release) => (started.push(i), release())));
    await eventually(() => r.queued === 3, 1000, 'three waiting');
    hold();
    await Promise.all(waits);
    expect(started).toEqual([own, giver, stranger]);

    const busy = await r.acquire(stranger);
    const queued = Array.from({ length: 8 }, () => r.acquire(stranger));
    await expect(r.acquire(stranger)).rejects.toBeInstanceOf(BusyError);
    // Another identity still gets in line (the bound is per identity first).
    const other = r.acquire(giver);
    expect(r.queued).toBe(9);
    busy();
    await Promise.all([...queued, other].map((p) => p.then((release) => release())));
  });
});

describe('iwant lists (§13.10)', { timeout: 30_000 }, () => {
  it('a fetch asks iwant first and sends getblob only to a peer that answered ihave', async () => {
    const [fetcher, holder, other] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    const ref = await holder.addBlob(bytes(1000, 4));
    const toHolder = await tappedLink(fetcher, holder);
    const toOther = await tappedLink(fetcher, other);
    expect(await fetcher.getBlob(ref)).toHaveLength(1000);
    const sent = (t: typeof toHolder, type: string) => t.frames.filter((f) => f.from === 'a' && f.message.type === type);
    expect(sent(toHolder, 'iwant')).toHaveLength(1);
    expect(sent(toOther, 'iwant')).toHaveLength(1);
    expect(sent(toHolder, 'getblob')).toHaveLength(1);
    expect(sent(toOther, 'getblob')).toHaveLength(0);
    const answered = toOther.frames.find((f) => f.from === 'b' && f.message.type === 'ihave');
    expect(answered?.message.blobs).toEqual([]);
  });

  it('images of followed feeds go on the want list; a round fetches them unless Save-Data, a metered link or a low battery says not to', async () => {
    let conditions: Conditions = { saveData: true, metered: false, battery: null };
    const reader = await Peer.open({ store: new MemoryStore(), conditions: async () => conditions });
    const author = await newPeer();
    const image = await author.addBlob(bytes(5000, 5));
    await author.publish({ type: 'image', blob: image, mime: 'image/png' });
    await reader.follow(author.identity);
    const [tap] = [await tappedLink(reader, author)];
    await eventually(() => reader.wants.wanted().includes(image.hash), 5000, 'the image to be wanted');

    for (const c of [
      { saveData: true, metered: false, battery: null },
      { saveData: false, metered: true, battery: null },
      { saveData: false, metered: false, battery: { charging: false, level: 0.1 } },
    ] satisfies Conditions[]) {
      conditions = c;
      expect(await reader.wants.round()).toBe(0);
      expect(reader.wants.policy.prefetch).toBe(false);
    }
    expect(tap.frames.filter((f) => f.from === 'a' && f.message.type === 'iwant')).toHaveLength(0);
    expect(await reader.replica.store.getBlob(image.hash)).toBeUndefined();

    // Positive control: on a charging battery (or mains) the same round asks and fetches.
    conditions = { saveData: false, metered: false, battery: { charging: true, level: 0.1 } };
    expect(await reader.wants.round()).toBe(1);
    expect(tap.frames.filter((f) => f.from === 'a' && f.message.type === 'iwant')).toHaveLength(1);
    await eventually(async () => (await reader.replica.store.getBlob(image.hash)) !== undefined, 5000, 'the image to be kept');
    expect(reader.wants.wanted()).not.toContain(image.hash);
    reader.close();
  });
});
