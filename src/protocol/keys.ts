/**
 * A key pair is a 32-byte Ed25519 seed; the identity is its public key. The
 * seed is what a mnemonic writes down and what storage keeps.
 */
import { randomBytes } from './bytes.ts';
import { domainMessage, type SigningPurpose } from './domain.ts';
import { checkPublicKey, makeSigner, publicKeyFromSeed, verify } from './ed25519.ts';
import { decodeIdentityText, decodeSignature, identityText, signatureText, type Identity, type SignatureText } from './encoding.ts';
import { fail, ok, type Result } from './errors.ts';

export interface KeyPair {
  readonly identity: Identity;
  readonly publicKey: Uint8Array;
  readonly seed: Uint8Array;
  /** Signs `context(purpose) || 0x00 || message`. */
  sign(purpose: SigningPurpose, message: Uint8Array): Promise<SignatureText>;
}

export async function keyPairFromSeed(seed: Uint8Array): Promise<KeyPair> {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const publicKey = publicKeyFromSeed(seed);
  const raw = await makeSigner(seed);
  return {
    identity: identityText(publicKey),
    publicKey,
    seed: seed.slice(),
    sign: async (purpose, message) => signatureText(await raw(domainMessage(purpose, message))),
  };
}

export const generateKeyPair = (): Promise<KeyPair> => keyPairFromSeed(randomBytes(32));

/** Checked identities, so the point decoding in `checkPublicKey` runs once per key. */
const checked = new Map<string, Result<Uint8Array>>();
const CHECKED_LIMIT = 8192;

/** Canonical text and a usable (on-curve, not small-order) key, or a typed error. */
export function decodeIdentity(text: string): Result<Uint8Array> {
  const hit = checked.get(text);
  if (hit) return hit;
  const bytes = decodeIdentityText(text);
  const result = bytes.ok ? checkPublicKey(bytes.value) : bytes;
  if (checked.size >= CHECKED_LIMIT) checked.clear();
  checked.set(text, result);
  return result;
}

export function parseIdentity(text: string): Result<Identity> {
  const r = decodeIdentity(text);
  return r.ok ? ok(text as Identity) : fail(r.error.code, r.error.message);
}

/** Verify a domain-separated signature by an identity under the pinned rule. */
export async function verifySignature(identity: string, purpose: SigningPurpose, message: Uint8Array, signature: string): Promise<boolean> {
  const key = decodeIdentity(identity);
  const sig = decodeSignature(signature);
  if (!key.ok || !sig.ok) return false;
  return verify(key.value, domainMessage(purpose, message), sig.value, identity);
}
