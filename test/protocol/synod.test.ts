import { describe, expect, it } from 'vitest';
import {
  checkDeviceEntry,
  createEntry,
  generateKeyPair,
  signMembership,
  synodReaders,
  synodState,
  type Entry,
  type Hash,
  type KeyPair,
  type Payload,
} from '../../src/protocol/index.ts';
import { note } from './helpers.ts';

const synod = await generateKeyPair();
const phone = await generateKeyPair();
const laptop = await generateKeyPair();
const stranger = await generateKeyPair();

async function synodChain(payloads: Payload[]): Promise<Entry[]> {
  const out: Entry[] = [];
  let parent: Hash | null = null;
  for (const [i, payload] of payloads.entries()) {
    const e = await createEntry(synod, { parent, comparable: i + 1, synod: null, payload });
    out.push(e);
    parent = e.hash;
  }
  return out;
}

const add = async (device: KeyPair, signer: KeyPair = device): Promise<Payload> => ({
  type: 'synod',
  op: 'add_device',
  device: device.identity,
  proof: await signMembership(signer, synod.identity),
});

const deviceEntry = (device: KeyPair, comparable: number, head: Hash) =>
  createEntry(device, { parent: null, comparable, synod: [synod.identity, head], payload: note('from a device') });

describe('synods', () => {
  it('admits a device only with both signatures and folds servers and profile', async () => {
    const chain = await synodChain([
      await add(phone),
      await add(laptop),
      { type: 'synod', op: 'servers', signalling: ['https://signal.example/room/me'], dropboxes: ['https://drop.example'] },
      { type: 'identification', name: 'Ada', about: 'hello' },
    ]);
    const state = await synodState(synod.identity, chain);
    expect(state.ok).toBe(true);
    if (!state.ok) return;
    expect([...state.value.devices.keys()].sort()).toEqual([phone.identity, laptop.identity].sort());
    expect(state.value.signalling).toEqual(['https://signal.example/room/me']);
    expect(state.value.profile.name).toBe('Ada');
    expect(synodReaders(state.value)).toContain(synod.identity);
    const e = await deviceEntry(phone, 10, state.value.head!);
    expect(checkDeviceEntry(state.value, e).ok).toBe(true);
  });

  it('rejects a membership proof signed by someone other than the device', async () => {
    const chain = await synodChain([await add(phone, stranger)]);
    const state = await synodState(synod.identity, chain);
    expect(!state.ok && state.error.code).toBe('bad_signature');
  });

  it('refuses entries of identities that are not members', async () => {
    const chain = await synodChain([await add(phone)]);
    const state = await synodState(synod.identity, chain);
    if (!state.ok) throw new Error('setup');
    const r = checkDeviceEntry(state.value, await deviceEntry(stranger, 1, state.value.head!));
    expect(!r.ok && r.error.code).toBe('not_member');
  });

  it('revocation cuts: entries after the cut are invalid, before it stay valid', async () => {
    const chain = await synodChain([await add(phone), { type: 'synod', op: 'revoke_device', device: phone.identity, cut: 50 }]);
    const state = await synodState(synod.identity, chain);
    if (!state.ok) throw new Error('setup');
    expect(checkDeviceEntry(state.value, await deviceEntry(phone, 50, chain[0]!.hash)).ok).toBe(true);
    const late = checkDeviceEntry(state.value, await deviceEntry(phone, 51, chain[0]!.hash));
    expect(!late.ok && late.error.code).toBe('revoked');
    expect(synodReaders(state.value)).not.toContain(phone.identity);
  });

  it('never re-admits a revoked device, and a second revocation only moves the cut earlier', async () => {
    const readmit = await synodChain([
      await add(phone),
      { type: 'synod', op: 'revoke_device', device: phone.identity, cut: 5 },
      await add(phone),
    ]);
    const r = await synodState(synod.identity, readmit);
    expect(!r.ok && r.error.code).toBe('revoked');
    const twice = await synodChain([
      await add(phone),
      { type: 'synod', op: 'revoke_device', device: phone.identity, cut: 5 },
      { type: 'synod', op: 'revoke_device', device: phone.identity, cut: 9 },
    ]);
    const s = await synodState(synod.identity, twice);
    expect(s.ok && s.value.devices.get(phone.identity)?.cut).toBe(5);
  });

  it('a final synod: claims of its final head are invalid and nothing may follow it', async () => {
    const chain = await synodChain([await add(phone), { type: 'synod', op: 'final' }]);
    const state = await synodState(synod.identity, chain);
    if (!state.ok) throw new Error('setup');
    expect(state.value.final).toBe(chain[1]!.hash);
    const r = checkDeviceEntry(state.value, await deviceEntry(phone, 1, chain[1]!.hash));
    expect(!r.ok && r.error.code).toBe('final_synod');
    const after = await synodChain([await add(phone), { type: 'synod', op: 'final' }, { type: 'identification', name: 'late' }]);
    const s = await synodState(synod.identity, after);
    expect(!s.ok && s.error.code).toBe('final_synod');
  });

  it("a synod feed holds only the synod's own entries", async () => {
    const foreign = await createEntry(phone, { parent: null, comparable: 1, synod: null, payload: await add(phone) });
    const s = await synodState(synod.identity, [foreign]);
    expect(!s.ok && s.error.code).toBe('wrong_identity');
  });
});
