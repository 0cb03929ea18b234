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
  mnemonic(): string | null {
    return this.keys.synod ? seedToMnemonic(this.keys.synod.seed) : null;
  }

  /** First visit: a new synod with this device as its first member. */
  async create(profile: SynodProfile = {}, servers?: SynodServers): Promise<{ mnemonic: string }> {
    const synod = await generateKeyPair();
    await this.#adoptKey(synod);
    await this.#addThisDevice(synod.identity);
    if (servers) await this.publisher.publishSynod({ type: 'synod', op: 'servers', ...servers });
    if (profile.name !== undefined || profile.about !== undefined)
      await this.publisher.publishSynod({ type: 'identification', ...profile });
    // The device's first entry claims the synod: rooms track a synod's head only for its members' sessions.
    if (!(await this.replica.head(this.keys.device.identity)))
      await this.publisher.publish({ type: 'identification', ...(profile.name !== undefined && { name: profile.name }) });
    return { mnemonic: seedToMnemonic(synod.seed) };
  }

  /**
   * Restore from the 24 words: this device becomes a new member of the
   * synod. The synod's feed must first be found on a connected peer or lease
   * (appending to an empty copy would fork it), so this waits for it.
   */
  async restore(words: string, waitMs: number): Promise<void> {
    const seed = mnemonicToSeed(words);
    if (!seed.ok) throw new PeerError('bad_mnemonic', seed.error.message);
    const synod = await keyPairFromSeed(seed.value);
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
    if (!this.replica.synod(synod.identity)?.devices.has(this.keys.device.identity)) await this.#addThisDevice(synod.identity);
    // As on creation: the device's feed names the synod, so rooms take the synod's new head from it.
    const head = await this.replica.head(this.keys.device.identity);
    if (!head || (await this.replica.store.getEntry(head.hash))?.body.synod?.[0] !== synod.identity)
      await this.publisher.publish({ type: 'identification' });
  }

  /** On a new device: the code to show the device that holds the synod key (QR or paste). */
  async pairingCode(synod: Identity): Promise<string> {
    const proof = await signMembership(this.keys.device, synod);
    this.keys.synodIdentity = synod;
    await this.replica.store.putSetting(SYNOD_SETTING, synod);
    await this.replica.watch(synod, 'synod');
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

  async #addThisDevice(synod: Identity): Promise<void> {
    const device = this.keys.device.identity;
    await this.publisher.publishSynod({ type: 'synod', op: 'add_device', device, proof: await signMembership(this.keys.device, synod) });
  }

  async #adoptKey(synod: KeyPair): Promise<void> {
    this.keys.synod = synod;
    this.keys.synodIdentity = synod.identity;
    await this.replica.store.putSecret(SYNOD_SECRET, synod.seed);
    await this.replica.store.putSetting(SYNOD_SETTING, synod.identity);
    await this.replica.watch(synod.identity, 'synod');
  }
}
