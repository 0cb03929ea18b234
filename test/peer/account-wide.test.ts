import { describe, expect, it } from 'vitest';
import { newRecoverySet, sealReadKeys, sealRecovery } from '../../src/protocol/index.ts';
import { eventually, link, newPeer } from './helpers.ts';

const follows = (p: Awaited<ReturnType<typeof newPeer>>, identity: string) =>
  p.watching().some((w) => w.identity === identity && w.reasons.includes('follow'));

describe('account-wide state (docs/protocol.md §9.8)', { timeout: 30_000 }, () => {
  it('a paired device takes the follows, blocks and mutes made before it joined, and reads earlier private notes', async () => {
    const [laptop, phone, carol, dave, erin, bob] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer(), newPeer(), newPeer()]);
    await laptop.createSynod({ name: 'Ada' });
    await bob.createSynod({ name: 'Bob' });
    await laptop.follow(carol.identity);
    await laptop.follow(dave.identity);
    await laptop.block(dave.identity);
    await laptop.mute(erin.identity);
    const note = await laptop.sendPrivate('before the phone', [bob.synodIdentity!]);
    const code = await phone.pairingCode(laptop.synodIdentity!);
    await laptop.acceptPairing(code, 'phone');
    await link(laptop, phone);

    await eventually(() => follows(phone, carol.identity), 10_000, 'the phone to follow carol');
    await eventually(() => phone.replica.isBlocked(dave.identity) && phone.replica.isBlocked(erin.identity), 10_000, 'blocks and mutes');
    expect(follows(phone, dave.identity)).toBe(false);
    await eventually(async () => (await phone.replica.store.getEntry(note.hash)) !== undefined, 10_000, 'the note to arrive');
    await eventually(() => phone.readPrivate(note) === 'before the phone', 10_000, 'the phone to read the earlier note');
    // Without the keys it was given the phone has no slot in that envelope: the positive control of the above.
    const given = phone.readKeys.size;
    expect(given).toBeGreaterThan(0);
    expect(phone.readKeys.keyFor(note.hash)).toBeDefined();
    (phone as unknown as { readKeys: { keyFor: () => undefined; open: () => null } }).readKeys.open = () => null;
    expect(phone.readPrivate(note)).toBeNull();
  });

  it('follows and blocks made on a paired device reach the device holding the synod key, the newest word winning', async () => {
    const [laptop, phone, carol, frank] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer()]);
    await laptop.createSynod({ name: 'Ada' });
    await laptop.follow(carol.identity);
    await laptop.acceptPairing(await phone.pairingCode(laptop.synodIdentity!), 'phone');
    await link(laptop, phone);
    await eventually(() => follows(phone, carol.identity), 10_000, 'the phone to follow carol');

    await phone.follow(frank.identity);
    await eventually(() => follows(laptop, frank.identity), 10_000, 'the laptop to follow frank');
    await phone.block(carol.identity);
    await eventually(
      () => laptop.replica.isBlocked(carol.identity) && !follows(laptop, carol.identity),
      10_000,
      'the laptop to block carol',
    );
    // Following again on the laptop is newer than the phone's block: both follow carol.
    await laptop.follow(carol.identity);
    await eventually(
      () => follows(phone, carol.identity) && !phone.replica.isBlocked(carol.identity),
      10_000,
      'the phone to follow carol again',
    );
  });

  it('takes read keys only from its own account: a stranger sealing a record to it gives nothing', async () => {
    const [laptop, phone, mallory] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    await laptop.createSynod();
    const note = await laptop.sendPrivate('secret', [laptop.synodIdentity!]);
    await laptop.acceptPairing(await phone.pairingCode(laptop.synodIdentity!), 'phone');
    // Mallory hands the phone a record for the same entry, signed by her own device.
    await mallory.follow(phone.identity);
    const bogus = sealReadKeys([{ entry: note.hash, key: new Uint8Array(32).fill(7) }], {
      author: mallory.identity,
      readers: [phone.identity],
    });
    const fromMallory = await mallory.publish({ type: 'private_note', envelope: bogus });
    await phone.follow(mallory.identity);
    await link(mallory, phone);
    await eventually(
      async () => (await phone.replica.store.getEntry(fromMallory.hash)) !== undefined,
      10_000,
      "mallory's record to arrive",
    );
    expect(phone.readKeys.keyFor(note.hash)).toBeUndefined();
    // Positive control: the laptop's record is taken.
    await link(laptop, phone);
    await eventually(() => phone.readKeys.keyFor(note.hash) !== undefined, 10_000, "the laptop's keys");
    expect(phone.readPrivate(note)).toBe('secret');
  });

  it('recovery records written before a device joined (whom the account chose) read on it with the keys it was given', async () => {
    const [laptop, phone, f1, f2] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer()]);
    await laptop.createSynod();
    const record = { type: 'recovery_set' as const, set: newRecoverySet(), threshold: 2, friends: [f1.identity, f2.identity] };
    const readers = [laptop.identity, laptop.synodIdentity!];
    const sealed = await laptop.publish({ type: 'private_note', envelope: sealRecovery(record, { author: laptop.identity, readers }) });
    expect((await laptop.recovery.currentSet())?.record).toEqual(record);
    await laptop.acceptPairing(await phone.pairingCode(laptop.synodIdentity!), 'phone');
    await link(laptop, phone);
    await eventually(async () => (await phone.recovery.currentSet()) !== null, 10_000, 'the phone to read the set');
    expect((await phone.recovery.currentSet())?.record).toEqual(record);
    // It was sealed before the phone existed: the phone reads it with the key it was given for that entry.
    expect(phone.readKeys.keyFor(sealed.hash)).toBeDefined();
  });
});
