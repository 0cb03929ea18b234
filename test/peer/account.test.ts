import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer, PeerError } from '../../src/peer/peer.ts';
import { eventually, headOf, link, newPeer } from './helpers.ts';

describe('synods and devices', { timeout: 20_000 }, () => {
  it('creates a synod whose first member is this device, with profile and servers', async () => {
    const alice = await newPeer();
    const { mnemonic } = await alice.createSynod(
      { name: 'Alice' },
      { signalling: ['wss://effigy.example/room/alice'], dropboxes: ['https://effigy.example'] },
    );
    expect(mnemonic.split(' ')).toHaveLength(24);
    const state = alice.synodState()!;
    expect(state.devices.has(alice.identity)).toBe(true);
    expect(state.profile.name).toBe('Alice');
    expect(state.dropboxes).toEqual(['https://effigy.example']);
    const note = await alice.postNote('hello');
    expect(note.body.synod?.[0]).toBe(alice.synodIdentity);
  });

  it('pairs a second device by code: both signatures, then mutual replication', async () => {
    const [laptop, phone] = await Promise.all([newPeer(), newPeer()]);
    await laptop.createSynod({ name: 'Ada' });
    const posted = await laptop.postNote('from the laptop');
    const code = await phone.pairingCode(laptop.synodIdentity!);
    await laptop.acceptPairing(code, 'phone');
    await link(laptop, phone);
    // The phone watches the synod, learns it is a member, and replicates the laptop's feed.
    await eventually(async () => (await headOf(phone, laptop.identity)) === posted.hash, 5000, 'phone to replicate the laptop');
    expect(phone.synodState()?.devices.has(phone.identity)).toBe(true);
    const fromPhone = await phone.postNote('from the phone');
    expect(fromPhone.body.synod?.[0]).toBe(laptop.synodIdentity);
    await eventually(async () => (await headOf(laptop, phone.identity)) === fromPhone.hash, 5000, 'laptop to replicate the phone');
  });

  it('refuses a pairing code for another synod or with a forged proof', async () => {
    const [a, b, c] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    await a.createSynod();
    await c.createSynod();
    await expect(a.acceptPairing(await b.pairingCode(c.synodIdentity!))).rejects.toThrow(PeerError);
    const code = await b.pairingCode(a.synodIdentity!);
    await expect(a.acceptPairing(code.replace(/.$/, code.endsWith('A') ? 'B' : 'A'))).rejects.toThrow(/verify|synod/);
    await expect(b.acceptPairing(code)).rejects.toThrow(/synod key/);
  });

  it('restores from the 24 words on a new device and recovers what a peer still holds', async () => {
    const old = await newPeer();
    const { mnemonic } = await old.createSynod({ name: 'Grace' });
    const posted = await old.postNote('written before the loss');
    const fresh = await Peer.open({ store: new MemoryStore() });
    await link(old, fresh);
    await fresh.restoreSynod(mnemonic, 5000);
    expect(fresh.synodIdentity).toBe(old.synodIdentity);
    expect(fresh.synodState()?.devices.has(fresh.identity)).toBe(true);
    await eventually(async () => (await headOf(fresh, old.identity)) === posted.hash, 5000, 'old device feed');
    expect(fresh.synodState()?.profile.name).toBe('Grace');
  });

  it('restore says clearly when nobody holds the synod, and rejects a bad phrase', async () => {
    const alone = await newPeer();
    const { mnemonic } = await (await newPeer()).createSynod();
    await expect(alone.restoreSynod(mnemonic, 100)).rejects.toThrow(/no connected peer/);
    await expect(alone.restoreSynod('one two three', 100)).rejects.toThrow(/24 words/);
  });

  it("a revoked device's later entries are refused by others", async () => {
    const [laptop, phone, friend] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    await laptop.createSynod();
    await laptop.acceptPairing(await phone.pairingCode(laptop.synodIdentity!));
    const [toPhone] = await link(laptop, phone);
    await eventually(() => phone.synodState()?.devices.has(phone.identity) ?? false, 5000, 'phone membership');
    const before = await phone.postNote('before the loss');
    await eventually(async () => (await headOf(laptop, phone.identity)) === before.hash, 5000, "the laptop to hold the phone's note");
    // The phone is stolen: it goes offline, so it never learns of the revocation, and the thief writes on.
    toPhone.close('stolen');
    await laptop.revokeDevice(phone.identity, before.body.comparable);
    const after = await phone.postNote('written by a thief');
    expect((await phone.replica.head(phone.identity))?.hash).toBe(after.hash); // the phone offers it as its head

    await friend.follow(phone.identity);
    await friend.follow(laptop.synodIdentity!);
    await link(laptop, friend);
    await eventually(
      () => friend.synodState(laptop.synodIdentity)?.devices.get(phone.identity)?.cut === before.body.comparable,
      5000,
      'revocation',
    );
    await eventually(async () => (await headOf(friend, phone.identity)) === before.hash, 5000, 'entries up to the cut');
    // The friend meets the phone, is offered the thief's entry, and refuses it.
    const refused: string[] = [];
    friend.events.on('rejected', (r) => r.hash !== null && refused.push(r.hash));
    await link(phone, friend);
    await eventually(() => refused.includes(after.hash), 5000, "the friend to refuse the thief's entry");
    expect(await headOf(friend, phone.identity)).toBe(before.hash);
    expect(await friend.replica.store.hasEntry(after.hash)).toBe(false);
  });
});

describe('private notes and mutes', () => {
  it('a follower replicates a private note but only its readers can read it', async () => {
    const [alice, bob, carol] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    await alice.createSynod();
    const secret = await alice.sendPrivate('for carol only', [carol.identity]);
    await bob.follow(alice.identity);
    await carol.follow(alice.identity);
    await link(alice, bob);
    await link(alice, carol);
    await eventually(async () => (await headOf(bob, alice.identity)) === secret.hash, 5000, 'bob replicates');
    await eventually(async () => (await headOf(carol, alice.identity)) === secret.hash, 5000, 'carol replicates');
    const atBob = (await bob.replica.store.getEntry(secret.hash))!;
    expect(bob.readPrivate(atBob)).toBeNull();
    expect(carol.readPrivate((await carol.replica.store.getEntry(secret.hash))!)).toBe('for carol only');
    expect(alice.readPrivate(secret)).toBe('for carol only');
  });

  it('a mute stops replication of that identity and only the muter can read it', async () => {
    const [alice, troll] = await Promise.all([newPeer(), newPeer()]);
    await alice.follow(troll.identity);
    const mute = await alice.mute(troll.identity);
    expect(alice.readPrivate(mute)).toContain(troll.identity);
    expect(troll.readPrivate(mute)).toBeNull();
    expect(alice.replica.isWatched(troll.identity)).toBe(false);
  });
});
