/**
 * Pairing by code (docs/protocol.md §9.5): a device joins an account through
 * a 12-digit code that one device shows (as digits and as a QR code) and the
 * other types or scans. The code is stretched (PBKDF2) into a rendezvous key
 * pair, whose identity both devices take in a room named after it, and a key
 * that seals what they say there. The membership proof stays what §9.1
 * says: the device holding the synod key still verifies it.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import * as z from 'zod/mini';
import { fromUtf8, randomBytes, utf8 } from './bytes.ts';
import { fromBase64url, toBase64url } from './encoding.ts';
import { fail, ok, type Result } from './errors.ts';
import { keyPairFromSeed, type KeyPair } from './keys.ts';
import { LIMITS } from './limits.ts';
import { chars, identitySchema, signatureSchema } from './schema.ts';
import type { PairSignal } from './signals.ts';

export const PAIRING = {
  digits: 12,
  iterations: 100_000,
  salt: 'effigy/v1/pairing',
  aad: 'effigy/v1/pairing',
  roomPrefix: 'pair-',
} as const;

/** A fresh code: 12 uniformly random decimal digits (about 40 bits). */
export function newPairingCode(random: (n: number) => Uint8Array = randomBytes): string {
  let out = '';
  while (out.length < PAIRING.digits) {
    for (const b of random(16)) if (b < 250 && out.length < PAIRING.digits) out += String(b % 10);
  }
  return out;
}

/** The code as people read it: three groups of four digits. */
export const formatPairingCode = (code: string): string => code.replace(/(\d{4})(?=\d)/g, '$1 ');

/** A code as typed or scanned: spaces and dashes ignored, or the link a pairing QR code holds (…#/pair/<digits>). */
export function parsePairingCode(input: string): Result<string> {
  const at = input.indexOf('#/pair/');
  const digits = (at >= 0 ? input.slice(at + 7) : input).replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits)) return fail('bad_encoding', 'a pairing code is 12 digits');
  if (digits.length !== PAIRING.digits) return fail('bad_encoding', `a pairing code is 12 digits; this has ${digits.length}`);
  return ok(digits);
}

export interface PairingSecrets {
  /** The rendezvous key pair: both devices authenticate to the room as this identity. */
  readonly keys: KeyPair;
  /** Seals and opens the `pair` signals. */
  readonly box: Uint8Array;
  /** The room name: "pair-" and the rendezvous identity without its sigil. */
  readonly room: string;
}

/** PBKDF2-HMAC-SHA-256(code, "effigy/v1/pairing", 100000) → 64 bytes: the rendezvous seed, then the box key. */
export async function derivePairing(code: string): Promise<PairingSecrets> {
  const parsed = parsePairingCode(code);
  if (!parsed.ok) throw new RangeError(parsed.error.message);
  const material = await crypto.subtle.importKey('raw', utf8(parsed.value) as Uint8Array<ArrayBuffer>, 'PBKDF2', false, ['deriveBits']);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: utf8(PAIRING.salt) as Uint8Array<ArrayBuffer>, iterations: PAIRING.iterations },
      material,
      512,
    ),
  );
  const keys = await keyPairFromSeed(bits.slice(0, 32));
  return { keys, box: bits.slice(32), room: PAIRING.roomPrefix + keys.identity.slice(1) };
}

const name = z.optional(chars(LIMITS.nameChars, 1));

/** What the two devices say, sealed inside `pair` signals. */
export const pairMessageSchema = z.discriminatedUnion('op', [
  /** From the device holding the synod key: join this synod. */
  z.strictObject({ op: z.literal('offer'), synod: identitySchema, name }),
  /** From the new device: its identity, its membership proof for the offered synod, the name it asks for. */
  z.strictObject({ op: z.literal('join'), synod: identitySchema, device: identitySchema, proof: signatureSchema, name }),
  /** From the device holding the synod key: the `add_device` entry is published. */
  z.strictObject({ op: z.literal('done'), device: identitySchema }),
]);
export type PairMessage = z.infer<typeof pairMessageSchema>;

/** Seal a pairing message: XChaCha20-Poly1305 under the box key, a random 24-byte nonce, AAD "effigy/v1/pairing". */
export function sealPair(box: Uint8Array, message: PairMessage, nonce: Uint8Array = randomBytes(24)): PairSignal {
  const sealed = xchacha20poly1305(box, nonce, utf8(PAIRING.aad)).encrypt(utf8(JSON.stringify(message)));
  return { ch: 'pair', nonce: toBase64url(nonce), box: toBase64url(sealed) };
}

/** Open a `pair` signal; anything that does not open, or is not a pairing message, is an error. */
export function openPair(box: Uint8Array, signal: PairSignal): Result<PairMessage> {
  const nonce = fromBase64url(signal.nonce, 24);
  const sealed = fromBase64url(signal.box);
  if (!nonce.ok || !sealed.ok) return fail('bad_encoding', 'pair signal: not base64url');
  let text: string;
  try {
    text = fromUtf8(xchacha20poly1305(box, nonce.value, utf8(PAIRING.aad)).decrypt(sealed.value));
  } catch {
    return fail('decrypt_failed', 'pair signal: not sealed with this code');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('bad_json', 'pair message: not JSON');
  }
  const parsed = pairMessageSchema.safeParse(json);
  return parsed.success ? ok(parsed.data) : fail('bad_schema', `pair message: ${z.prettifyError(parsed.error)}`);
}
