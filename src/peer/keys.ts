/**
 * Keys this device holds: its own device key, and the synod key when this
 * device created the synod or was restored from its words. Secrets live in
 * the store under fixed names.
 */
import { generateKeyPair, keyPairFromSeed, type Identity, type KeyPair } from '../protocol/index.ts';
import type { Store } from './store.ts';

export const DEVICE_SECRET = 'device-seed';
export const SYNOD_SECRET = 'synod-seed';
export const SYNOD_SETTING = 'synod-identity';

/** Shared by the engine's parts and changed only by the synod module (create, restore, pairing). */
export interface Keys {
  readonly device: KeyPair;
  /** The synod key, on a device that created the synod or was restored from its words. */
  synod: KeyPair | null;
  /** The synod this device belongs to or asked to join, with or without its key. */
  synodIdentity: Identity | null;
}

export async function loadKeys(store: Store): Promise<Keys> {
  const seed = await store.getSecret(DEVICE_SECRET);
  const device = seed ? await keyPairFromSeed(seed) : await generateKeyPair();
  if (!seed) await store.putSecret(DEVICE_SECRET, device.seed);
  const synodSeed = await store.getSecret(SYNOD_SECRET);
  const synod = synodSeed ? await keyPairFromSeed(synodSeed) : null;
  const synodIdentity = synod?.identity ?? (await store.getSetting<Identity>(SYNOD_SETTING)) ?? null;
  return { device, synod, synodIdentity };
}

/** The seeds that open envelopes sealed to us: the device's, and the synod's when held. */
export const openingSeeds = (keys: Keys): Uint8Array[] => [keys.device.seed, ...(keys.synod ? [keys.synod.seed] : [])];
