/**
 * The account: the synod this device belongs to (design: Synods). Creating
 * one, restoring it from its 24 words, pairing a new device by code, revoking
 * a device, and what the synod publishes (servers, profile). Whatever changes
 * the synod's feed needs the synod key.
 */
import {
  generateKeyPair,
  keyPairFromSeed,
  mnemonicToSeed,
  seedToMnemonic,
  signMembership,
  verifyMembership,
  type BlobRef,
  type Entry,
  type Identity,
  type KeyPair,
  type SignatureText,
} from '../protocol/index.ts';
import { PeerError } from './errors.ts';
import { SYNOD_SECRET, SYNOD_SETTING, type Keys } from './keys.ts';
import type { Publisher } from './publisher.ts';
import type { Replica } from './replica.ts';
import { within } from './events.ts';

const PAIRING_PREFIX = 'effigy-pair:';

export interface SynodProfile {
  name?: string;
  about?: string;
}

export interface SynodServers {
  signalling: string[];
  dropboxes: string[];
}

export class SynodAccount {
  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly publisher: Publisher,
  ) {}

  /** The synod's 24 words, on a device that holds the synod key. */
  async mnemonic(): Promise<string | null> {
    return this.keys.synod ? seedToMnemonic(this.keys.synod.seed) : null;
  }

  /** First visit: a new synod with this device as its first member (named `deviceName`). */
  async create(profile: SynodProfile = {}, servers?: SynodServers, deviceName?: string): Promise<{ mnemonic: string }> {
    const synod = await generateKeyPair();
    await this.#adoptKey(synod);
    await this.#addThisDevice(synod.identity, deviceName);
    if (servers) await this.publisher.publishSynod({ type: 'synod', op: 'servers', ...servers });
    if (profile.name !== undefined || profile.about !== undefined)
      await this.publisher.publishSynod({ type: 'identification', ...profile });
    // The device's first entry claims the synod: rooms track a synod's head only for its members' sessions.
    if (!(await this.replica.head(this.keys.device.identity)))
      await this.publisher.publish({ type: 'identification', ...(profile.name !== undefined && { name: profile.name }) });
    return { mnemonic: await seedToMnemonic(synod.seed) };
  }

  /**
   * Restore from the 24 words: this device becomes a new member of the
   * synod. The synod's feed must first be found on a connected peer or lease
   * (appending to an empty copy would fork it), so this waits for it.
   */
  async restore(words: string, waitMs: number, deviceName?: string): Promise<void> {
    const seed = await mnemonicToSeed(words);
    if (!seed.ok) throw new PeerError('bad_mnemonic', seed.error.message);
    await this.restoreSeed(seed.value, waitMs, deviceName);
  }

  /** Restore from the synod seed itself (the words decoded, or the seed friends gave back: recovery.ts). */
  async restoreSeed(seed: Uint8Array, waitMs: number, deviceName?: string): Promise<void> {
    const synod = await keyPairFromSeed(seed);
    if (!(await this.replica.head(synod.identity))) {
      const arrived = this.replica.events.once('head', (h) => h.identity === synod.identity);
      await this.replica.watch(synod.identity, 'synod');
      if (!(await within(arrived, waitMs))) {
        // Keep nothing of a restore that found nothing: the words stay with the person.
        if (this.keys.synodIdentity !== synod.identity) await this.replica.unwatch(synod.identity, 'synod');
        throw new PeerError(
          'synod_not_found',
          'no connected peer or lease holds this synod yet: connect to a room where another of your devices or a lease is, then try again',
        );
      }
    }
    await this.#adoptKey(synod);
    if (!this.replica.synod(synod.identity)?.devices.has(this.keys.device.identity)) await this.#addThisDevice(synod.identity, deviceName);
    // As on creation: the device's feed names the synod, so rooms take the synod's new head from it.
    const head = await this.replica.head(this.keys.device.identity);
    if (!head || (await this.replica.store.getEntry(head.hash))?.body.synod?.[0] !== synod.identity)
      await this.publisher.publish({ type: 'identification' });
  }

  /** On a new device: ask to join `synod` (watch it, remember it) and sign the membership proof the holder needs. */
  async askToJoin(synod: Identity): Promise<SignatureText> {
    const proof = await signMembership(this.keys.device, synod);
    this.keys.synodIdentity = synod;
    await this.replica.store.putSetting(SYNOD_SETTING, synod);
    await this.replica.watch(synod, 'synod');
    return proof;
  }

  /** On a new device: the long code to show the device that holds the synod key (the code pairing by digits replaces for people). */
  async pairingCode(synod: Identity): Promise<string> {
    const proof = await this.askToJoin(synod);
    return `${PAIRING_PREFIX}${synod}.${this.keys.device.identity}.${proof}`;
  }

  /** On the device holding the synod key: admit the device that showed `code`. */
  async acceptPairing(code: string, name?: string): Promise<Entry> {
    const own = this.keys.synod;
    if (!own)
      throw new PeerError(
        'not_synod_holder',
        'only a device holding the synod key (created it, or restored from its words) can add devices',
      );
    const parts = code.trim().startsWith(PAIRING_PREFIX) ? code.trim().slice(PAIRING_PREFIX.length).split('.') : [];
    const [synod, device, proof] = parts as [Identity, Identity, SignatureText];
    if (parts.length !== 3 || synod !== own.identity) throw new PeerError('bad_pairing', 'this pairing code is not for this synod');
    if (!(await verifyMembership(synod, device, proof)))
      throw new PeerError('bad_pairing', 'the pairing code does not verify: copy it again');
    return this.publisher.publishSynod({ type: 'synod', op: 'add_device', device, proof, ...(name !== undefined && { name }) });
  }

  /** Rename an active device: its `add_device` again, with the proof it was added with (§9.1 rule 5). */
  async renameDevice(device: Identity, name: string): Promise<Entry> {
    const synod = this.keys.synodIdentity;
    const record = synod ? this.replica.synod(synod)?.devices.get(device) : undefined;
    if (!record || record.cut !== null) throw new PeerError('not_found', 'that device is not an active member of this account');
    const added = await this.replica.store.getEntry(record.addedIn);
    const p = added?.body.payload;
    if (p?.type !== 'synod' || p.op !== 'add_device') throw new PeerError('not_found', 'the entry that added this device is not here yet');
    return this.publisher.publishSynod({ type: 'synod', op: 'add_device', device, proof: p.proof, ...(name && { name }) });
  }

  async revokeDevice(device: Identity, cut?: number): Promise<Entry> {
    const head = await this.replica.head(device);
    return this.publisher.publishSynod({ type: 'synod', op: 'revoke_device', device, cut: cut ?? head?.comparable ?? 0 });
  }

  setServers(signalling: string[], dropboxes: string[]): Promise<Entry> {
    return this.publisher.publishSynod({ type: 'synod', op: 'servers', signalling, dropboxes });
  }

  setProfile(profile: SynodProfile & { avatar?: BlobRef }): Promise<Entry> {
    return this.publisher.publishSynod({ type: 'identification', ...profile });
  }

  async #addThisDevice(synod: Identity, name?: string): Promise<void> {
    const device = this.keys.device.identity;
    const proof = await signMembership(this.keys.device, synod);
    await this.publisher.publishSynod({ type: 'synod', op: 'add_device', device, proof, ...(name && { name }) });
  }

  async #adoptKey(synod: KeyPair): Promise<void> {
    this.keys.synod = synod;
    this.keys.synodIdentity = synod.identity;
    await this.replica.store.putSecret(SYNOD_SECRET, synod.seed);
    await this.replica.store.putSetting(SYNOD_SETTING, synod.identity);
    await this.replica.watch(synod.identity, 'synod');
  }
}
