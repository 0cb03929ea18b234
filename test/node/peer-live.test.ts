/**
 * Node peers against the real Worker (wrangler dev, as `npm start` runs it):
 * peers meet in a room and replicate through the room relay (Node has no
 * WebRTC), exactly as browsers fall back to when WebRTC cannot connect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import { hashOf, type Entry, type Identity } from '../../src/protocol/index.ts';
import { startLocalWorker, type LocalWorker } from '../support/local-worker.ts';
import { eventually, headOf } from '../peer/helpers.ts';

let worker: LocalWorker;
let roomCount = 0;
const peers: Peer[] = [];

beforeAll(async () => {
  worker = await startLocalWorker();
}, 90_000);

afterAll(async () => {
  for (const p of peers) p.close();
  await worker?.stop();
});

const roomUrl = () => `${worker.url.replace(/^http/, 'ws')}/room/live-${++roomCount}`;

async function peerIn(url: string): Promise<Peer> {
  const peer = await Peer.open({ store: new MemoryStore() });
  peers.push(peer);
  const room = peer.connect(url);
  if (room.status !== 'online') await room.events.once('status', (s) => s === 'online');
  return peer;
}

const linkedTo = (peer: Peer, other: Peer) =>
  eventually(() => peer.links().some((l) => l.identity === other.identity), 10_000, 'a relay link');

describe('peers through the local room', { timeout: 120_000 }, () => {
  it('two peers replicate a 1,000-entry feed and several blobs through the room relay', async () => {
    const url = roomUrl();
    const alice = await peerIn(url);
    const posted: Entry[] = [];
    for (let i = 0; i < 1000; i++) posted.push(await alice.postNote(`entry ${i}`));
    const blobs = await Promise.all(
      [10_000, 100_000, 300_000].map((size) => alice.addBlob(Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff))),
    );
    for (const ref of blobs) await alice.publish({ type: 'image', blob: ref, mime: 'image/jpeg' });
    const bob = await peerIn(url);
    // Links are by consent: each lets the other see it and link (docs/peer.md, Links).
    await bob.follow(alice.identity);
    await alice.follow(bob.identity);
    await linkedTo(bob, alice);
    expect(bob.links().find((l) => l.identity === alice.identity)?.transport).toBe('relay');
    const head = (await alice.replica.head(alice.identity))!.hash;
    await eventually(async () => (await headOf(bob, alice.identity)) === head, 60_000, "bob to hold alice's 1,003 entries");
    expect(await bob.feed(alice.identity, 5000)).toHaveLength(1004); // and alice's follow of bob
    for (const ref of blobs) expect(hashOf(await bob.getBlob(ref))).toBe(ref.hash);
  });

  it('three peers: a feed reaches the third, a rebase propagates to both', async () => {
    const url = roomUrl();
    const [a, b, c] = [await peerIn(url), await peerIn(url), await peerIn(url)];
    for (const p of [b, c]) {
      await p.follow(a.identity);
      await a.follow(p.identity);
    }
    const posted: Entry[] = [];
    for (let i = 0; i < 20; i++) posted.push(await a.postNote(`n${i}`));
    for (const p of [b, c]) await eventually(async () => (await headOf(p, a.identity)) === posted[19]!.hash, 30_000, 'initial replication');
    const rewritten = await a.deleteEntries([posted[10]!.hash]);
    for (const p of [b, c]) await eventually(async () => (await headOf(p, a.identity)) === rewritten.at(-1)!.hash, 30_000, 'the rebase');
    const notes = (await c.feed(a.identity, 100)).filter((e) => e.body.payload.type === 'public_note');
    const texts = notes.map((e) => (e.body.payload.type === 'public_note' ? e.body.payload.text : ''));
    expect(texts).not.toContain('n10');
    expect(texts).toHaveLength(19);
  });

  it("publishing announces: the room tracks each new head, and the synod's once the device's feed names it", async () => {
    const url = roomUrl();
    const alice = await peerIn(url);
    const room = alice.mesh.rooms.get(url)!;
    const tracked = async (identity: Identity) => {
      // Poll gently: a room rate-limits a session that floods it with requests.
      await new Promise((r) => setTimeout(r, 100));
      const reply = await room.link!.request({ type: 'get_heads', identities: [identity] });
      return reply.type === 'last_known_heads' ? reply.heads[0]?.[1] : undefined;
    };
    // Online before anything exists: whatever the room tracks from here on, publishing announced.
    await alice.createSynod({ name: 'Alice' });
    const synodHead = (await alice.replica.head(alice.synodIdentity!))!.hash;
    await eventually(async () => (await tracked(alice.identity)) === (await headOf(alice, alice.identity)), 10_000, 'the device head');
    // The synod entries came before the device's first entry named the synod, when the room still refused them.
    await eventually(async () => (await tracked(alice.synodIdentity!)) === synodHead, 10_000, 'the synod head');
    const note = await alice.postNote('announced');
    await eventually(async () => (await tracked(alice.identity)) === note.hash, 10_000, 'the new head');
    const servers = await alice.setServers([url], []);
    await eventually(async () => (await tracked(alice.synodIdentity!)) === servers.hash, 10_000, 'the new synod head');
  });

  it("a revoked device's later entries are refused", async () => {
    const url = roomUrl();
    const laptop = await peerIn(url);
    await laptop.createSynod({ name: 'Ada' });
    const phone = await peerIn(url);
    await laptop.acceptPairing(await phone.pairingCode(laptop.synodIdentity!));
    await eventually(() => phone.synodState()?.devices.has(phone.identity) ?? false, 30_000, 'phone membership');
    const before = await phone.postNote('mine');
    await eventually(async () => (await headOf(laptop, phone.identity)) === before.hash, 30_000, "the laptop to hold the phone's note");
    // The phone is stolen. The thief's client ignores the account from now on,
    // so it never learns of the revocation and offers what it writes as its head.
    await phone.replica.unwatch(laptop.synodIdentity!, 'synod');
    await laptop.revokeDevice(phone.identity, before.body.comparable);
    const friend = await peerIn(url);
    // The thief lets the friend see it and link (a follow kept off its feed), to push what it writes.
    await phone.replica.watch(friend.identity, 'follow');
    const stolen = await phone.postNote('a thief writes');
    expect((await phone.replica.head(phone.identity))?.hash).toBe(stolen.hash);

    const refused: string[] = [];
    friend.events.on('rejected', (r) => r.hash !== null && refused.push(r.hash));
    // The laptop lets the friend see it; the friend finds it through the account it follows.
    await laptop.follow(friend.identity);
    await friend.follow(laptop.synodIdentity!);
    await eventually(
      () => friend.synodState(laptop.synodIdentity)?.devices.get(phone.identity)?.cut === before.body.comparable,
      30_000,
      'revocation',
    );
    await friend.follow(phone.identity);
    await eventually(() => refused.includes(stolen.hash), 30_000, "the friend to refuse the thief's entry");
    await eventually(async () => (await headOf(friend, phone.identity)) === before.hash, 30_000, 'entries up to the cut');
    expect(await friend.replica.store.hasEntry(stolen.hash)).toBe(false);
  });

  it('a device restored from the words finds its account through the lease on the server, then links with the other device', async () => {
    const url = roomUrl();
    const laptop = await peerIn(url);
    const { mnemonic } = await laptop.createSynod({ name: 'Ada' });
    const note = await laptop.postNote('written on the laptop');
    // Nobody lets an unknown device see them: only the account's feed, leased on the server, says who it is.
    const phone = await peerIn(url);
    await phone.restoreSynod(mnemonic);
    expect(phone.synodState()?.devices.has(laptop.identity)).toBe(true);
    await eventually(
      () => phone.links().find((l) => l.identity === laptop.identity)?.reason === 'device',
      30_000,
      'the two devices linked as devices',
    );
    await eventually(async () => (await headOf(phone, laptop.identity)) === note.hash, 30_000, "the laptop's note on the phone");
  });
});

describe('dropbox and leases through the local Worker', { timeout: 120_000 }, () => {
  it('a drop reaches an offline recipient when it connects, and is gone once acknowledged', async () => {
    const url = roomUrl();
    const alice = await Peer.open({ store: new MemoryStore() });
    peers.push(alice);
    await alice.createSynod({ name: 'Alice' });
    // Alice has been here before: the room tracks her head, which names her synod.
    const first = alice.connect(url);
    await first.events.once('status', (s) => s === 'online');
    await eventually(
      async () => {
        const reply = await first.link!.request({ type: 'get_heads', identities: [alice.identity] });
        return reply.type === 'last_known_heads' && reply.heads.length === 1;
      },
      10_000,
      'the room to track alice',
    );
    alice.disconnect(url);

    const stranger = await peerIn(url);
    const dropped = await stranger.sendDrop(alice.synodIdentity!, 'hello from a stranger', url);
    const arrived = alice.events.once('drop');
    alice.connect(url);
    const drop = await arrived;
    expect(drop.hash).toBe(dropped.hash);
    expect(drop.sender).toBe(stranger.identity);
    expect(drop.text).toBe('hello from a stranger');
    expect(await alice.inbox()).toHaveLength(1);

    // Acknowledged to the server once stored: a later visit is not told again. The stranger
    // leaves a second drop meanwhile, so the later visit does get a notice (one frame listing
    // all that waits), and it must name the second drop only.
    alice.disconnect(url);
    const second = await stranger.sendDrop(alice.synodIdentity!, 'a second message', url);
    const notices: string[][] = [];
    alice.mesh.events.on('roomOther', ({ message }) => message.type === 'drops' && notices.push(message.drops.map((d) => d.hash)));
    alice.connect(url);
    await eventually(() => notices.length > 0, 30_000, "the later visit's drops notice");
    expect(notices[0]).toEqual([second.hash]);
  });

  it("a paired device without the synod key collects its synod's drops: the room asks it for the synod's chain", async () => {
    const url = roomUrl();
    const laptop = await peerIn(url);
    await laptop.createSynod({ name: 'Ada' });
    const phone = await peerIn(url);
    await laptop.acceptPairing(await phone.pairingCode(laptop.synodIdentity!));
    await eventually(() => phone.synodState()?.devices.has(phone.identity) ?? false, 30_000, 'phone membership');
    // The phone's own feed names the synod (at a head that holds its add_device); the room tracks it.
    const note = await phone.postNote('mine');
    expect(note.body.synod?.[0]).toBe(laptop.synodIdentity);
    const room = phone.mesh.rooms.get(url)!;
    await eventually(
      async () => {
        await new Promise((r) => setTimeout(r, 100));
        const reply = await room.link!.request({ type: 'get_heads', identities: [phone.identity] });
        return reply.type === 'last_known_heads' && reply.heads[0]?.[1] === note.hash;
      },
      10_000,
      "the room to track the phone's head",
    );
    // A stranger reads the account's public feed, so it seals to the account's readers (the phone among them).
    const stranger = await peerIn(url);
    await stranger.follow(laptop.synodIdentity!);
    await eventually(() => stranger.synodState(laptop.synodIdentity)?.devices.has(phone.identity) ?? false, 30_000, "the synod's readers");
    // The device holding the synod key goes away; the phone leaves too.
    laptop.close();
    phone.disconnect(url);

    const dropped = await stranger.sendDrop(laptop.synodIdentity!, 'for the account', url);
    const arrived = phone.events.once('drop');
    phone.connect(url);
    const drop = await arrived;
    expect(drop.hash).toBe(dropped.hash);
    expect(drop.target).toBe(laptop.synodIdentity);
    expect(drop.text).toBe('for the account');
  });

  it('clears its dropbox in one call: a later visit is told only of what came after', async () => {
    const url = roomUrl();
    const alice = await peerIn(url);
    await alice.createSynod({ name: 'Alice' });
    alice.disconnect(url);
    const stranger = await peerIn(url);
    for (let i = 0; i < 3; i++) await stranger.sendDrop(alice.synodIdentity!, `spam ${i}`, url);
    // Without connecting for the notices: one call, to the synod's dropbox (alice holds its key).
    await alice.clearDropbox(url);
    const notices: number[] = [];
    alice.mesh.events.on('roomOther', ({ message }) => message.type === 'drops' && notices.push(message.drops.length));
    const after = await stranger.sendDrop(alice.synodIdentity!, 'after the clearing', url);
    const arrived = alice.events.once('drop');
    alice.connect(url);
    expect((await arrived).hash).toBe(after.hash);
    expect(notices).toEqual([1]);
  });

  it('a lease lets a peer fetch a feed and its blobs while the owner is offline', async () => {
    const url = roomUrl();
    const owner = await peerIn(url);
    const posted: Entry[] = [];
    for (let i = 0; i < 50; i++) posted.push(await owner.postNote(`leased ${i}`));
    const image = await owner.addBlob(Uint8Array.from({ length: 70_000 }, (_, i) => (i * 13) & 0xff));
    const last = await owner.publish({ type: 'image', blob: image, mime: 'image/png' });
    const grants = await owner.requestLease(url, 3600);
    expect(grants.map((g) => g.head)).toContain(last.hash);
    owner.close();

    const reader = await peerIn(url);
    await reader.follow(owner.identity);
    await eventually(async () => (await headOf(reader, owner.identity)) === last.hash, 30_000, 'the leased feed');
    expect(await reader.feed(owner.identity, 100)).toHaveLength(51);
    expect(hashOf(await reader.getBlob(image))).toBe(image.hash);
  });
});
