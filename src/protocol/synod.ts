/**
 * Synods: the account. A synod is an identity whose feed groups device
 * identities, revokes lost ones, lists signalling servers and dropboxes, and
 * carries the profile.
 *
 * Membership needs both signatures: the device signs the statement
 * (synod key, device key) under the `membership` context, and the synod signs
 * the `add_device` entry that carries that proof. Revocation names a cut: the
 * device's entries with a comparable above it are invalid. A revoked device is
 * never re-admitted (a lost key stays lost). A synod whose feed holds a
 * `final` entry is closed: an entry claiming the synod at that final head is
 * invalid, so nobody can join or speak for it after the end.
 */
import { concat } from './bytes.ts';
import type { Hash, Identity, SignatureText } from './encoding.ts';
import type { Entry } from './entry.ts';
import { fail, ok, type Result } from './errors.ts';
import { decodeIdentity, verifySignature, type KeyPair } from './keys.ts';
import type { BlobRef } from './schema.ts';

function membershipStatement(synod: Identity, device: Identity): Uint8Array | null {
  const s = decodeIdentity(synod);
  const d = decodeIdentity(device);
  return s.ok && d.ok ? concat(s.value, d.value) : null;
}

/** The device's half of membership: run on the device, carried in the synod's `add_device`. */
export async function signMembership(device: KeyPair, synod: Identity): Promise<SignatureText> {
  const statement = membershipStatement(synod, device.identity);
  if (!statement) throw new TypeError('invalid synod identity');
  return device.sign('membership', statement);
}

export async function verifyMembership(synod: Identity, device: Identity, proof: string): Promise<boolean> {
  const statement = membershipStatement(synod, device);
  return statement !== null && verifySignature(device, 'membership', statement, proof);
}

export interface DeviceRecord {
  readonly device: Identity;
  readonly addedIn: Hash;
  readonly name?: string;
  /** Last valid comparable of the device, once revoked. */
  readonly cut: number | null;
}

export interface Profile {
  readonly name?: string;
  readonly about?: string;
  readonly avatar?: BlobRef;
}

export interface SynodState {
  readonly synod: Identity;
  readonly head: Hash | null;
  readonly devices: ReadonlyMap<Identity, DeviceRecord>;
  readonly signalling: readonly string[];
  readonly dropboxes: readonly string[];
  readonly profile: Profile;
  /** The `final` entry, once the synod is closed. */
  readonly final: Hash | null;
}

/**
 * Fold a synod's chain (root first, already chain-checked) into its state.
 * Entries that are not the synod's own, or with a forged device proof, fail
 * the whole state: a synod feed is the authority and must be clean.
 */
export async function synodState(synod: Identity, chain: readonly Entry[]): Promise<Result<SynodState>> {
  const devices = new Map<Identity, DeviceRecord>();
  let signalling: readonly string[] = [];
  let dropboxes: readonly string[] = [];
  let profile: Profile = {};
  let final: Hash | null = null;
  for (const entry of chain) {
    if (entry.body.identity !== synod) return fail('wrong_identity', `${entry.hash} is not an entry of synod ${synod}`);
    if (final) return fail('final_synod', `${entry.hash} follows the synod's final entry`);
    const p = entry.body.payload;
    if (p.type === 'identification') {
      profile = {
        ...(p.name !== undefined && { name: p.name }),
        ...(p.about !== undefined && { about: p.about }),
        ...(p.avatar && { avatar: p.avatar }),
      };
      continue;
    }
    if (p.type !== 'synod') continue;
    switch (p.op) {
      case 'add_device': {
        const known = devices.get(p.device);
        if (known?.cut !== null && known !== undefined) return fail('revoked', `${entry.hash} re-admits revoked device ${p.device}`);
        if (!(await verifyMembership(synod, p.device, p.proof))) {
          return fail('bad_signature', `${entry.hash}: the device's membership signature does not verify`);
        }
        devices.set(p.device, { device: p.device, addedIn: entry.hash, cut: null, ...(p.name !== undefined && { name: p.name }) });
        break;
      }
      case 'revoke_device': {
        const known = devices.get(p.device);
        if (!known) return fail('not_member', `${entry.hash} revokes ${p.device}, which was never added`);
        // A second revocation can only pull the cut earlier: the harm is already done by then.
        const cut = known.cut === null ? p.cut : Math.min(known.cut, p.cut);
        devices.set(p.device, { ...known, cut });
        break;
      }
      case 'servers':
        signalling = p.signalling;
        dropboxes = p.dropboxes;
        break;
      case 'final':
        final = entry.hash;
        break;
    }
  }
  const head = chain.length ? (chain[chain.length - 1] as Entry).hash : null;
  return ok({ synod, head, devices, signalling, dropboxes, profile, final });
}

/** May this device entry stand, given the synod's current state? */
export function checkDeviceEntry(state: SynodState, entry: Entry): Result<true> {
  const claim = entry.body.synod;
  if (!claim || claim[0] !== state.synod) return ok(true);
  if (state.final !== null && claim[1] === state.final) {
    return fail('final_synod', `${entry.hash} claims the final head of synod ${state.synod}`);
  }
  const record = state.devices.get(entry.body.identity);
  if (!record) return fail('not_member', `${entry.body.identity} is not a device of synod ${state.synod}`);
  if (record.cut !== null && entry.body.comparable > record.cut) {
    return fail('revoked', `${entry.hash} comes after device ${entry.body.identity} was revoked (cut ${record.cut})`);
  }
  return ok(true);
}

/** The identities that read for a synod: the synod key itself and every device not revoked. */
export const synodReaders = (state: SynodState): Identity[] => [
  state.synod,
  ...[...state.devices.values()].filter((d) => d.cut === null).map((d) => d.device),
];
