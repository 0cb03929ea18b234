/**
 * Links by consent, with whole peers in a room in memory (memory-room.ts:
 * presence by interest and message_to by consent as §13.8 words them). Node
 * has no WebRTC, so links run over the room relay, exactly as the rules
 * apply to WebRTC. Every "no link" waits for an event that shows the other
 * side acted (a refusal logged, a link to someone else) and has a positive
 * control where the same setup links once consent is there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import type { LinkLimits } from '../../src/peer/link-rules.ts';
import { generateKeyPair, type Identity } from '../../src/protocol/index.ts';
import { eventually } from './helpers.ts';
import { MemoryRoom } from './memory-room.ts';

const peers: Peer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

async function peerIn(room: MemoryRoom, linkLimits?: LinkLimits): Promise<Peer> {
  const peer = await Peer.open({ store: new MemoryStore(), WebSocket: room.WebSocket, ...(linkLimits && { linkLimits }) });
  peers.push(peer);
  const client = peer.connect(room.url);
  if (client.status !== 'online') await client.events.once('status', (s) => s === 'online');
  return peer;
}

const reasonOn = (peer: Peer, other: Peer) => peer.links().find((l) => l.identity === other.identity)?.reason;
const linked = (a: Peer, b: Peer) => reasonOn(a, b) !== undefined || reasonOn(b, a) !== undefined;

/** Everything `peer` logs, kept for assertions. */
function logOf(peer: Peer): string[] {
  const lines: string[] = [];
  peer.events.on('log', (l) => lines.push(l));
  return lines;
}

/** Give `to` the feed of `from`, as if it had come by any other way (a friend, a lease). */
async function handFeed(from: Peer, to: Peer): Promise<void> {
  const chain = await from.replica.chain(from.identity);
  await to.replica.accept(from.identity, [...chain].reverse(), 'test');
  await to.replica.considerHead(from.identity, chain.at(-1)!.hash);
  await to.consent.settle();
}

describe('links by consent', { timeout: 30_000 }, () => {
  it('people who follow each other link; a stranger who follows you learns nothing of you and never links', async () => {
    const room = new MemoryRoom();
    const [alice, bob, carol] = [await peerIn(room), await peerIn(room), await peerIn(room)];
    await alice.follow(bob.identity);
    await bob.follow(alice.identity);
    await carol.follow(alice.identity);

    await eventually(() => reasonOn(alice, bob) === 'mutual' && reasonOn(bob, alice) === 'mutual', 15_000, 'alice and bob linked, mutual');
    await eventually(() => room.watching(carol.identity, alice.identity), 5_000, 'carol watching alice');
    expect(room.present(alice.identity)).toBe(true);
    expect(room.told(carol.identity, alice.identity)).toBe(false);
    expect(linked(alice, carol)).toBe(false);

    // Positive control: once alice follows carol, carol may see her, and they link.
    await alice.follow(carol.identity);
    // Each replicates the other's feed over the link, and learns the follow is mutual.
    await eventually(() => reasonOn(alice, carol) === 'mutual' && reasonOn(carol, alice) === 'mutual', 15_000, 'alice and carol linked');
    expect(room.told(carol.identity, alice.identity)).toBe(true);
  });

  it('refuses a stranger who reaches it anyway (opt-ins on), and serves one only as a pub', async () => {
    const room = new MemoryRoom();
    const alice = await peerIn(room);
    const log = logOf(alice);
    await alice.setPrivacy({ seenByAnyone: true, strangersMayMessage: true });
    const carol = await peerIn(room);
    await carol.follow(alice.identity);
    // The room lets carol see alice and reach her; alice's own rule stops the link.
    await eventually(() => log.some((l) => l.includes(`ignored a link from ${carol.identity}`)), 15_000, 'alice refusing carol');
    expect(linked(alice, carol)).toBe(false);

    // Positive control: as a pub alice takes strangers, and says why.
    await alice.setPrivacy({ pub: true });
    const dave = await peerIn(room);
    await dave.follow(alice.identity);
    await eventually(() => reasonOn(alice, dave) === 'served' && reasonOn(dave, alice) === 'follow', 15_000, 'alice serving dave');
    expect(dave.mesh.linkTo(alice.identity)!.services).toContain('pub');
  });

  it('knows a follower from its feed: watches it then, and links', async () => {
    const room = new MemoryRoom();
    const [alice, fan] = [await peerIn(room), await peerIn(room)];
    await fan.follow(alice.identity);
    await eventually(() => room.allows(fan.identity, alice.identity), 5_000, 'fan allowing alice');
    expect(room.watching(alice.identity, fan.identity)).toBe(false);
    expect(linked(alice, fan)).toBe(false);

    await handFeed(fan, alice);
    expect(alice.consent.reasonOf(fan.identity)).toBe('follower');
    await eventually(
      () => reasonOn(alice, fan) === 'follower' && reasonOn(fan, alice) === 'follow',
      15_000,
      'alice linked to her follower',
    );
    expect(room.watching(alice.identity, fan.identity)).toBe(true);
  });

  it('holds at most maxLinks links and maxPubs pubs, dropping the least useful class first', async () => {
    const room = new MemoryRoom();
    const alice = await peerIn(room, { maxLinks: 2, maxPubs: 1 });
    const log = logOf(alice);
    const notLinking = (p: Peer) => eventually(() => log.some((l) => l.startsWith(`not linking with ${p.identity}`)), 15_000, 'a refusal');
    const pub = async () => {
      const p = await peerIn(room);
      await p.setPrivacy({ pub: true });
      await alice.addPub(p.identity);
      return p;
    };
    const fan = async () => {
      const f = await peerIn(room);
      await f.follow(alice.identity);
      await handFeed(f, alice);
      return f;
    };

    const p1 = await pub();
    await eventually(() => reasonOn(alice, p1) === 'pub', 15_000, 'a pub');
    const p2 = await pub();
    await notLinking(p2); // the one pub allowed is there
    const f1 = await fan();
    await eventually(() => reasonOn(alice, f1) === 'follower', 15_000, 'a follower');
    expect(alice.links()).toHaveLength(2);

    // At the cap, a follower outranks the pub, which goes.
    const f2 = await fan();
    await eventually(() => reasonOn(alice, f2) === 'follower' && reasonOn(alice, p1) === undefined, 15_000, 'the pub dropped');

    // Someone she follows who follows her outranks a follower.
    const mutual = await peerIn(room);
    await mutual.follow(alice.identity);
    await alice.follow(mutual.identity);
    await eventually(() => reasonOn(alice, mutual) === 'mutual', 15_000, 'a mutual follow');
    expect(alice.links()).toHaveLength(2);
    expect([reasonOn(alice, f1), reasonOn(alice, f2)].filter(Boolean)).toEqual(['follower']);

    // Another follower does not displace its own class.
    const f3 = await fan();
    await notLinking(f3);
    expect(
      alice
        .links()
        .map((l) => l.reason)
        .sort(),
    ).toEqual(['follower', 'mutual']);
    expect(linked(alice, p2)).toBe(false);
  });

  it("a device joining its account finds the account's devices through the room, over the relay, then links as a device", async () => {
    const room = new MemoryRoom();
    const [laptop, phone, stranger] = [await peerIn(room), await peerIn(room), await peerIn(room)];
    await laptop.createSynod({ name: 'Ada' });
    // A stranger claiming nothing and a device it watches as its account's: the phone sees only the latter.
    const code = await phone.pairingCode(laptop.synodIdentity!);
    await eventually(() => room.watching(phone.identity, laptop.synodIdentity!), 5_000, 'the phone watching its account');
    expect(phone.consent.reasonOf(laptop.identity)).toBe('claimed');
    expect(linked(phone, laptop)).toBe(false); // the laptop does not let it see it yet
    await laptop.acceptPairing(code);
    await eventually(() => phone.synodState()?.devices.has(phone.identity) ?? false, 15_000, 'the phone a member');
    await eventually(() => reasonOn(phone, laptop) === 'device' && reasonOn(laptop, phone) === 'device', 15_000, 'linked as devices');
    expect(phone.links().find((l) => l.identity === laptop.identity)!.transport).toBe('relay');
    expect(linked(phone, stranger) || linked(laptop, stranger)).toBe(false);
  });

  it('tells a room it joins only to leave a drop nothing of whom it watches or allows', async () => {
    const [theirs, ours] = [new MemoryRoom('dropbox'), new MemoryRoom()];
    const alice = await Peer.open({ store: new MemoryStore(), WebSocket: theirs.WebSocket });
    peers.push(alice);
    await alice.follow((await generateKeyPair()).identity);
    const quiet = alice.mesh.join(theirs.url, { presence: false });
    await quiet.events.once('status', (s) => s === 'online');
    await quiet.interestChanged();
    const told = (room: MemoryRoom) =>
      (room.sent.get(alice.identity) ?? []).filter((m) => m.type === 'watch' || m.type === 'allow' || m.type === 'visibility').length;
    expect(told(theirs)).toBe(0);
    expect(alice.mesh.presenceIn(theirs.url)).toBe(false);
    // Positive control: a room of its own hears all three.
    const own = await Peer.open({ store: new MemoryStore(), WebSocket: ours.WebSocket });
    peers.push(own);
    await own.follow((await generateKeyPair()).identity);
    const client = own.connect(ours.url);
    await client.events.once('status', (s) => s === 'online');
    await client.interestChanged();
    expect((ours.sent.get(own.identity) ?? []).map((m) => m.type)).toEqual(expect.arrayContaining(['visibility', 'allow', 'watch']));
  });

  it('tells the room whom it watches and allows, in chunks of at most 512, then by delta', async () => {
    const room = new MemoryRoom();
    const alice = await Peer.open({ store: new MemoryStore(), WebSocket: room.WebSocket });
    peers.push(alice);
    const others: Identity[] = [];
    for (let i = 0; i < 1300; i++) others.push((await generateKeyPair()).identity);
    // Followed before going online (as a restored device's follows are): one list, not 1,300 changes.
    for (const o of others) await alice.replica.watch(o, 'follow');
    await alice.consent.settle();
    const client = alice.connect(room.url);
    await client.events.once('status', (s) => s === 'online');
    await client.interestChanged();
    expect(room.watchList(alice.identity).sort()).toEqual([...others].sort());
    const frames = (room.sent.get(alice.identity) ?? []).filter((m) => m.type === 'watch' || m.type === 'allow');
    expect(frames.filter((m) => m.type === 'watch')).toHaveLength(3);
    for (const m of frames)
      if (m.type === 'watch' || m.type === 'allow') expect((m.add?.length ?? 0) + (m.remove?.length ?? 0)).toBeLessThanOrEqual(512);

    await alice.block(others[7]!);
    await alice.mesh.rooms.get(room.url)!.interestChanged();
    const last = room.sent
      .get(alice.identity)!
      .filter((m) => m.type === 'watch')
      .at(-1)!;
    expect(last).toMatchObject({ type: 'watch', remove: [others[7]] });
    expect(room.watching(alice.identity, others[7]!)).toBe(false);
    expect(room.allows(alice.identity, others[7]!)).toBe(false);
    expect(room.allows(alice.identity, others[8]!)).toBe(true);
  });
});
