/** Data leases between peers (docs/protocol.md §13.11): a friend keeps a copy and serves it while the owner is offline. */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import { eventually, headOf, link, newPeer, tappedLink } from './helpers.ts';

const png = (n: number) => new Uint8Array(n).fill(9);

describe('keeping copies for friends (§13.11)', { timeout: 30_000 }, () => {
  it("a friend the keeper chose gets a lease; the keeper serves the owner's feed and images while the owner is offline", async () => {
    const [owner, keeper, reader] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    await owner.createSynod({ name: 'Ada' });
    const image = await owner.addBlob(png(20_000));
    await owner.publish({ type: 'image', blob: image, mime: 'image/png' });
    const note = await owner.postNote('kept by a friend');
    await keeper.follow(owner.synodIdentity!);
    await keeper.keeping.setSettings({ friends: [owner.synodIdentity!], quotaBytes: 1_000_000 });
    const [toOwner] = await link(owner, keeper);

    await eventually(() => owner.keeping.keepers().length === 2, 10_000, 'the owner to be granted leases for both feeds');
    expect(
      owner.keeping
        .keepers()
        .map((k) => k.feed)
        .sort(),
    ).toEqual([owner.identity, owner.synodIdentity].sort());
    expect(owner.keeping.keepers().every((k) => k.keeper === keeper.identity)).toBe(true);
    await eventually(async () => (await keeper.replica.store.getBlob(image.hash)) !== undefined, 10_000, 'the keeper to hold the image');
    await eventually(() => keeper.keeping.kept().some((k) => k.feed === owner.identity && k.bytes >= 20_000), 10_000, 'bytes booked');
    expect(keeper.watching().find((w) => w.identity === owner.identity)?.reasons).toContain('lease');

    // The owner goes offline; a reader who follows the account gets everything from the keeper.
    toOwner.close('owner offline');
    owner.close();
    await reader.follow(owner.synodIdentity!);
    await link(reader, keeper);
    await eventually(async () => (await headOf(reader, owner.identity)) === note.hash, 10_000, "the reader to get the owner's feed");
    expect(await reader.getBlob(image)).toHaveLength(20_000);
  });

  it('offers datalease only to chosen friends and its own devices; a stranger asking is refused, and a full quota says so', async () => {
    const [keeper, stranger, friend] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    await stranger.postNote('hello');
    await friend.postNote('hi');
    await keeper.keeping.setSettings({ friends: [friend.identity], quotaBytes: 1 });
    const tap = await tappedLink(keeper, stranger);
    await eventually(() => tap.frames.filter((f) => f.from === 'a' && f.message.type === 'provides').length === 2, 5000, 'both provides');
    expect(tap.frames.filter((f) => f.from === 'a' && f.message.type === 'provides').map((f) => f.message.services)).toEqual([
      ['blobs', 'headtracking'],
      ['blobs', 'headtracking'],
    ]);
    const link0 = stranger.mesh.linkTo(keeper.identity)!;
    await expect(stranger.keeping.askToKeep(link0)).rejects.toThrow(/forbidden/);
    expect(keeper.keeping.kept()).toEqual([]);

    // Positive control: the friend is offered datalease and granted; then the quota (1 byte) is used up.
    await link(keeper, friend);
    await eventually(() => friend.keeping.keepers().length === 1, 10_000, 'the friend to be granted');
    await eventually(() => keeper.keeping.usedBytes() > 1, 10_000, 'bytes counted');
    const other = await newPeer();
    await other.postNote('me too');
    await keeper.keeping.setSettings({ friends: [friend.identity, other.identity] });
    await link(keeper, other);
    const toKeeper = other.mesh.linkTo(keeper.identity)!;
    await expect(other.keeping.askToKeep(toKeeper)).rejects.toThrow(/quota/);
  });

  it("the account's own devices keep each other's feeds without being chosen", async () => {
    const [laptop, phone] = await Promise.all([newPeer(), Peer.open({ store: new MemoryStore() })]);
    await laptop.createSynod();
    await laptop.acceptPairing(await phone.pairingCode(laptop.synodIdentity!), 'phone');
    await phone.postNote('from the phone');
    await link(laptop, phone);
    await eventually(() => phone.keeping.keepers().some((k) => k.keeper === laptop.identity), 10_000, 'the laptop to keep the phone');
  });
});
