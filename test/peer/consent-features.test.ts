/**
 * This branch's peer features under links by consent (docs/protocol.md
 * §13.9), with whole peers in a room in memory (memory-room.ts): a friend
 * who keeps copies (§13.11) is one we link with, and the account's devices
 * link as devices, so account-wide follows and read keys (§9.8) travel.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import { eventually } from './helpers.ts';
import { MemoryRoom } from './memory-room.ts';

const peers: Peer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

async function peerIn(room: MemoryRoom): Promise<Peer> {
  const peer = await Peer.open({ store: new MemoryStore(), WebSocket: room.WebSocket });
  peers.push(peer);
  const client = peer.connect(room.url);
  if (client.status !== 'online') await client.events.once('status', (s) => s === 'online');
  return peer;
}

const reasonOn = (peer: Peer, other: Peer) => peer.links().find((l) => l.identity === other.identity)?.reason;
const follows = (p: Peer, identity: string) => p.watching().some((w) => w.identity === identity && w.reasons.includes('follow'));

describe('peer features under links by consent', { timeout: 30_000 }, () => {
  it('a friend who keeps copies links by consent and is granted the lease; datalease stays offered when it becomes a pub', async () => {
    const room = new MemoryRoom();
    const [owner, keeper] = [await peerIn(room), await peerIn(room)];
    await owner.postNote('kept by a friend');
    await keeper.keeping.setSettings({ friends: [owner.identity], quotaBytes: 1_000_000 });
    await keeper.follow(owner.identity);
    await owner.follow(keeper.identity);

    await eventually(() => reasonOn(keeper, owner) === 'mutual' && reasonOn(owner, keeper) === 'mutual', 15_000, 'linked, mutual');
    await eventually(() => owner.keeping.keepers().some((k) => k.keeper === keeper.identity), 15_000, 'the owner granted a lease');
    const toKeeper = () => owner.mesh.linkTo(keeper.identity)!;
    expect(toKeeper().services).toContain('datalease');

    // A `provides` sent for another reason (the keeper now serves strangers) still offers datalease.
    await keeper.setPrivacy({ pub: true });
    await eventually(() => toKeeper().services.includes('pub'), 15_000, "the keeper's new provides");
    expect(toKeeper().services).toContain('datalease');
    // Positive control: a peer the keeper did not choose is offered pub but not datalease.
    const other = await peerIn(room);
    await other.follow(keeper.identity);
    await eventually(() => other.mesh.linkTo(keeper.identity)?.services.includes('pub') ?? false, 15_000, 'other linked to the pub');
    expect(other.mesh.linkTo(keeper.identity)!.services).not.toContain('datalease');
  });

  it("a device joining its account links as a device and takes the account's follows and the keys to earlier private notes", async () => {
    const room = new MemoryRoom();
    const [laptop, phone] = [await peerIn(room), await peerIn(room)];
    const carol = await Peer.open({ store: new MemoryStore() });
    peers.push(carol);
    await laptop.createSynod({ name: 'Ada' });
    await laptop.follow(carol.identity);
    const note = await laptop.sendPrivate('before the phone', [carol.identity]);
    await laptop.acceptPairing(await phone.pairingCode(laptop.synodIdentity!), 'phone');

    await eventually(() => reasonOn(phone, laptop) === 'device' && reasonOn(laptop, phone) === 'device', 15_000, 'linked as devices');
    await eventually(() => follows(phone, carol.identity), 15_000, 'the phone to follow carol');
    // The adopted follow is a relation of the phone's own: consent would link it with carol.
    await phone.consent.settle();
    expect(phone.consent.reasonOf(carol.identity)).toBe('follow');
    await eventually(async () => (await phone.replica.store.getEntry(note.hash)) !== undefined, 15_000, 'the note to arrive');
    await eventually(() => phone.readPrivate(note) === 'before the phone', 15_000, 'the phone to read the earlier note');
  });
});
