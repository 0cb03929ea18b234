/** Messages (§10.5): the plaintext format and the sender's card. */
import { describe, expect, it } from 'vitest';
import {
  createEntry,
  generateKeyPair,
  newMessageId,
  parseMessage,
  signMembership,
  verifySender,
  type KeyPair,
} from '../../src/protocol/index.ts';

async function account(name?: string) {
  const synod = await generateKeyPair();
  const device = await generateKeyPair();
  const added = await createEntry(synod, {
    parent: null,
    comparable: 1,
    synod: null,
    payload: { type: 'synod', op: 'add_device', device: device.identity, proof: await signMembership(device, synod.identity) },
  });
  const profile = await createEntry(synod, {
    parent: added.hash,
    comparable: 2,
    synod: null,
    payload: { type: 'identification', ...(name && { name }) },
  });
  return { synod, device, added, profile };
}

describe('message plaintext', () => {
  it('reads a message with its "to" line, and leaves anything else as a plain note', async () => {
    const to = [(await generateKeyPair()).identity];
    const m = { type: 'message', id: newMessageId(), to, text: 'hello' } as const;
    expect(parseMessage(JSON.stringify(m))).toEqual(m);
    expect(parseMessage('hello')).toBeNull();
    expect(parseMessage('{"not":"a message"}')).toBeNull();
    expect(parseMessage(JSON.stringify({ ...m, to: [] }))).toBeNull();
    expect(parseMessage(JSON.stringify({ ...m, extra: 1 }))).toBeNull();
    expect(parseMessage(JSON.stringify({ ...m, text: 'x'.repeat(4001) }))).toBeNull();
  });
});

describe("the sender's card", () => {
  it("proves the sending device's account and gives its profile", async () => {
    const carol = await account('Carol');
    const r = await verifySender({ device: carol.added.text, profile: carol.profile.text }, carol.device.identity);
    expect(r).toEqual({ ok: true, value: { synod: carol.synod.identity, name: 'Carol' } });
  });

  it('is refused for another device, a forged proof, or a profile from another account', async () => {
    const carol = await account('Carol');
    const mallory = await account('Carol');
    const other: KeyPair = await generateKeyPair();
    // Mallory shows Carol's card as hers.
    expect((await verifySender({ device: carol.added.text }, mallory.device.identity)).ok).toBe(false);
    // Mallory's account claims a device whose proof it made up.
    const forged = await createEntry(mallory.synod, {
      parent: null,
      comparable: 1,
      synod: null,
      payload: {
        type: 'synod',
        op: 'add_device',
        device: other.identity,
        proof: await signMembership(mallory.device, mallory.synod.identity),
      },
    });
    const bad = await verifySender({ device: forged.text }, other.identity);
    expect(!bad.ok && bad.error.code).toBe('bad_signature');
    // A real card with someone else's profile.
    const mixed = await verifySender({ device: carol.added.text, profile: mallory.profile.text }, carol.device.identity);
    expect(!mixed.ok && mixed.error.code).toBe('wrong_identity');
    // A card whose entry text was altered does not open at all.
    expect((await verifySender({ device: carol.added.text.replace('"comparable":1', '"comparable":3') }, carol.device.identity)).ok).toBe(
      false,
    );
  });
});
