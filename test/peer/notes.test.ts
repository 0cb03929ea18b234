/** Per-peer notes (docs/protocol.md §13.7): meeting again costs what changed since, not what is followed. */
import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../src/peer/channel.ts';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import { authenticate } from '../../src/peer/session.ts';
import {
  createEntry,
  encodeWire,
  generateKeyPair,
  hashOf,
  interestDigest,
  nextComparable,
  parseWire,
  utf8,
  type Entry,
  type Identity,
  type KeyPair,
  type WireMessage,
} from '../../src/protocol/index.ts';
import { eventually, headOf, tappedLink, type Tapped } from './helpers.ts';

const post = (keys: KeyPair, parent: Entry | null, text: string) =>
  createEntry(keys, {
    parent: parent?.hash ?? null,
    comparable: nextComparable(parent),
    synod: null,
    payload: { type: 'public_note', text },
  });

/** Entries that reached a peer from elsewhere. */
async function give(peer: Peer, ...entries: Entry[]): Promise<void> {
  for (const e of entries) {
    await peer.replica.accept(e.body.identity, [e], 'elsewhere');
    await peer.replica.considerHead(e.body.identity, e.hash);
  }
}

/** A device and a peer (another of its person's devices) that watch each other and the same authors, who each wrote one entry. */
async function friends(options: { peerNotes?: boolean } = {}) {
  const authors = await Promise.all([generateKeyPair(), generateKeyPair(), generateKeyPair()]);
  const first = await Promise.all(authors.map((a, i) => post(a, null, `hello ${i}`)));
  const device = await Peer.open({ store: new MemoryStore() });
  const peer = await Peer.open({ store: new MemoryStore(), notes: options.peerNotes ?? true });
  for (const [p, other] of [
    [device, peer],
    [peer, device],
  ] as const) {
    await p.replica.watch(other.identity, 'follow');
    for (const a of authors) await p.replica.watch(a.identity, 'follow');
    await give(p, ...first);
  }
  return { authors, first, device, peer };
}

/** Link, wait until both hold notes of the other, unlink. */
async function meet(device: Peer, peer: Peer): Promise<Tapped> {
  const tap = await tappedLink(device, peer);
  await eventually(async () => {
    const [a, b] = await Promise.all([device.replica.store.getNote(peer.identity), peer.replica.store.getNote(device.identity)]);
    return !!a?.epoch && !!b?.epoch;
  });
  await unlink(device, tap);
  return tap;
}

async function unlink(device: Peer, tap: { channels: [{ close(r?: string): void }, unknown] }): Promise<void> {
  tap.channels[0].close('bye');
  await eventually(() => device.links().length === 0);
}

const sent = (tap: Tapped, from: 'a' | 'b', type: string) => tap.frames.filter((f) => f.from === from && f.message.type === type);

describe('per-peer notes', () => {
  it('reconnecting asks only what changed, and takes a new head with its entry, without get_feed', async () => {
    const { authors, first, device, peer } = await friends();
    const firstTap = await meet(device, peer);
    // Control: the first meeting registered the whole interest list (both ways).
    expect(sent(firstTap, 'a', 'interests').flatMap((f) => f.message.add as string[])).toHaveLength(device.watching().length);

    const news = await post(authors[0]!, first[0]!, 'news');
    await give(peer, news);
    const tap = await tappedLink(device, peer);
    await eventually(async () => (await headOf(device, authors[0]!.identity)) === news.hash);
    await eventually(async () => (await device.replica.store.getNote(peer.identity))?.seq === (await peer.replica.store.headLog(0)).seq);
    expect(sent(tap, 'a', 'interests')).toEqual([]);
    expect(sent(tap, 'a', 'get_heads')).toEqual([]);
    expect(sent(tap, 'a', 'get_feed')).toEqual([]);
    expect(sent(tap, 'a', 'get_changes')).toHaveLength(1);
    const answer = sent(tap, 'b', 'changes');
    expect(answer).toHaveLength(1);
    expect(answer[0]!.message.heads).toEqual([[authors[0]!.identity, news.hash]]);
    expect(answer[0]!.message.entries).toEqual([news.text]);
  });

  it('while linked, a new head comes pushed with its entry', async () => {
    const { authors, first, device, peer } = await friends();
    const tap = await tappedLink(device, peer);
    await eventually(async () => !!(await device.replica.store.getNote(peer.identity))?.epoch);
    const news = await post(authors[1]!, first[1]!, 'live');
    await give(peer, news);
    await eventually(async () => (await headOf(device, authors[1]!.identity)) === news.hash);
    const pushed = sent(tap, 'b', 'changes').filter((f) => f.message.re === undefined);
    expect(pushed.map((f) => f.message.entries)).toEqual([[news.text]]);
    expect(sent(tap, 'a', 'get_feed')).toEqual([]);
    // The device does not tell the peer of a head the peer told it of.
    expect(sent(tap, 'a', 'changes').filter((f) => f.message.re === undefined && (f.message.heads as unknown[]).length > 0)).toEqual([]);
  });

  it('a peer that lost its notes is sent the list again, and the device still catches up', async () => {
    const { authors, first, device, peer } = await friends();
    await meet(device, peer);
    await peer.replica.store.deleteNote(device.identity);
    const news = await post(authors[2]!, first[2]!, 'after the loss');
    await give(peer, news);
    const tap = await tappedLink(device, peer);
    await eventually(async () => (await headOf(device, authors[2]!.identity)) === news.hash);
    expect(sent(tap, 'b', 'error').map((f) => f.message.code)).toContain('not_found');
    expect(sent(tap, 'a', 'interests').map((f) => f.message.base)).toEqual([null]);
    expect(sent(tap, 'a', 'get_changes')).toHaveLength(2);
  });

  it('a follow made while away is registered as the difference, and its head asked for', async () => {
    const { device, peer } = await friends();
    await meet(device, peer);
    const held = (await device.replica.store.getNote(peer.identity))!.ours!;
    const stranger = await generateKeyPair();
    const hello = await post(stranger, null, 'new here');
    await give(peer, hello);
    await device.replica.watch(stranger.identity, 'follow');
    const tap = await tappedLink(device, peer);
    await eventually(async () => (await headOf(device, stranger.identity)) === hello.hash);
    const registered = sent(tap, 'a', 'interests');
    expect(registered.map((f) => [f.message.base, f.message.add, f.message.remove])).toEqual([
      [interestDigest(held), [stranger.identity], []],
    ]);
    expect(sent(tap, 'a', 'get_heads').flatMap((f) => f.message.identities as string[])).toEqual([stranger.identity]);
  });

  it('a peer that keeps no notes is asked with get_heads, now and next time', async () => {
    const { authors, first, device, peer } = await friends({ peerNotes: false });
    const news = await post(authors[0]!, first[0]!, 'plain');
    await give(peer, news);
    const tap = await tappedLink(device, peer);
    await eventually(async () => (await headOf(device, authors[0]!.identity)) === news.hash);
    expect(sent(tap, 'b', 'error').map((f) => f.message.code)).toEqual(['unavailable', 'unavailable']);
    expect(sent(tap, 'a', 'get_heads').length).toBeGreaterThan(0);
    await eventually(async () => (await device.replica.store.getNote(peer.identity))?.plain === true);
    await unlink(device, tap);
    const again = await tappedLink(device, peer);
    await eventually(() => sent(again, 'b', 'last_known_heads').length > 0);
    expect(sent(again, 'a', 'get_changes')).toEqual([]);
  });

  it('keeps no notes with a peer it does not watch: the stranger gets the full exchange, and nothing is kept', async () => {
    const [device, stranger] = await Promise.all([Peer.open({ store: new MemoryStore() }), Peer.open({ store: new MemoryStore() })]);
    const tap = await tappedLink(device, stranger);
    await eventually(() => sent(tap, 'b', 'last_known_heads').length > 0 && sent(tap, 'a', 'last_known_heads').length > 0);
    expect(sent(tap, 'b', 'error').map((f) => f.message.code)).toContain('forbidden');
    expect(sent(tap, 'b', 'changes')).toEqual([]);
    expect(await device.replica.store.getNote(stranger.identity)).toBeUndefined();
    expect(await stranger.replica.store.getNote(device.identity)).toBeUndefined();
    // A refusal is not "keeps no notes at all": once they follow each other, notes are kept.
    await unlink(device, tap);
    await device.replica.watch(stranger.identity, 'follow');
    await stranger.replica.watch(device.identity, 'follow');
    await meet(device, stranger);
  });

  it('refuses an interest list that is not the one held, or does not add up to its digest', async () => {
    const bob = await Peer.open({ store: new MemoryStore() });
    const mallory = await generateKeyPair();
    await bob.replica.watch(mallory.identity, 'follow'); // notes are kept only with peers one follows
    const [evil, good] = memoryPair();
    const adopted = bob.mesh.adopt(good, { endpoint: 'memory:test', room: 'memory' });
    await authenticate(evil, { keys: mallory, endpoint: 'memory:test', head: null });
    await adopted;
    const answers = new Map<string, WireMessage>();
    evil.read((frame) => {
      const m = parseWire(frame);
      if (m.ok && m.value.re !== undefined) answers.set(m.value.re, m.value);
    });
    const ask = async (id: string, message: Record<string, unknown>) => {
      evil.send(encodeWire({ ...message, id } as WireMessage));
      await eventually(() => answers.has(id));
      return answers.get(id);
    };
    const me = [mallory.identity] as Identity[];
    expect(await ask('1', { type: 'interests', base: null, digest: interestDigest(me), add: me, remove: [] })).toMatchObject({
      type: 'ok',
    });
    expect(
      await ask('2', { type: 'interests', base: hashOf(utf8('another list')), digest: interestDigest([]), add: [], remove: me }),
    ).toMatchObject({
      type: 'error',
      code: 'not_found',
    });
    expect(await ask('3', { type: 'interests', base: interestDigest(me), digest: interestDigest([]), add: [], remove: [] })).toMatchObject({
      type: 'error',
      code: 'not_found',
    });
    // The list was dropped: asking with its digest is refused too.
    expect(await ask('4', { type: 'get_changes', digest: interestDigest(me), epoch: null, seq: 0 })).toMatchObject({
      type: 'error',
      code: 'not_found',
    });
    expect(await ask('5', { type: 'get_changes', digest: interestDigest([]), epoch: null, seq: 0 })).toMatchObject({
      type: 'changes',
      heads: [],
    });
  });
});
