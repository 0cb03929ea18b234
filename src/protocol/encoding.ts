/**
 * The one canonical text form for keys, hashes and signatures: unpadded
 * base64url, with a sigil for the kind so a hash is never mistaken for an
 * identity. Decoding re-encodes and compares, which rejects padding, foreign
 * alphabets and non-zero trailing bits: one value, one spelling.
 */
import { base64urlnopad } from '@scure/base';
import { fail, ok, type Result } from './errors.ts';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** An Ed25519 public key: `@` + 43 base64url characters. */
export type Identity = Brand<string, 'Identity'>;
/** A SHA-256 content hash of an entry or blob: `&` + 43 base64url characters. */
export type Hash = Brand<string, 'Hash'>;
/** An Ed25519 signature: 86 base64url characters. */
export type SignatureText = Brand<string, 'Signature'>;

export const IDENTITY_SIGIL = '@';
export const HASH_SIGIL = '&';
export const IDENTITY_TEXT_LENGTH = 44;
export const HASH_TEXT_LENGTH = 44;
export const SIGNATURE_TEXT_LENGTH = 86;

export const toBase64url = (bytes: Uint8Array): string => base64urlnopad.encode(bytes);

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Canonical decode: exactly `length` bytes, and the text must be the one
 * encoding of them. The codec rejects padding and foreign characters; the
 * unused low bits of the last character must be zero (otherwise several
 * spellings would decode to the same bytes).
 */
export function fromBase64url(text: string, length?: number): Result<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = base64urlnopad.decode(text);
  } catch {
    return fail('bad_encoding', 'not unpadded base64url');
  }
  if (length !== undefined && bytes.length !== length) {
    return fail('bad_encoding', `expected ${length} bytes, got ${bytes.length}`);
  }
  const unusedBits = [0, 4, 2][bytes.length % 3] as number;
  if (unusedBits && ALPHABET.indexOf(text[text.length - 1] as string) & ((1 << unusedBits) - 1)) {
    return fail('bad_encoding', 'non-canonical base64url');
  }
  return ok(bytes);
}

function decodeSigiled(text: string, sigil: string, what: string): Result<Uint8Array> {
  if (typeof text !== 'string' || text.length !== 44 || text[0] !== sigil) {
    return fail('bad_encoding', `${what} must be "${sigil}" followed by 43 base64url characters`);
  }
  const bytes = fromBase64url(text.slice(1), 32);
  return bytes.ok ? bytes : fail('bad_encoding', `${what}: ${bytes.error.message}`);
}

export const identityText = (publicKey: Uint8Array): Identity => (IDENTITY_SIGIL + toBase64url(publicKey)) as Identity;
export const hashText = (digest: Uint8Array): Hash => (HASH_SIGIL + toBase64url(digest)) as Hash;
export const signatureText = (signature: Uint8Array): SignatureText => toBase64url(signature) as SignatureText;

/** Encoding only; whether the key is a usable Ed25519 point is ed25519.ts's job. */
export const decodeIdentityText = (text: string): Result<Uint8Array> => decodeSigiled(text, IDENTITY_SIGIL, 'identity');
export const decodeHash = (text: string): Result<Uint8Array> => decodeSigiled(text, HASH_SIGIL, 'hash');
export function decodeSignature(text: string): Result<Uint8Array> {
  if (typeof text !== 'string' || text.length !== SIGNATURE_TEXT_LENGTH) {
    return fail('bad_encoding', 'signature must be 86 base64url characters');
  }
  return fromBase64url(text, 64);
}

const SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Cheap shape test for schemas; full canonical checks happen in the decoders above. */
export const looksLikeIdentity = (s: string): boolean =>
  s.length === 44 && s[0] === IDENTITY_SIGIL && SHAPE.test(s.slice(1)) && fromBase64url(s.slice(1), 32).ok;
export const looksLikeHash = (s: string): boolean =>
  s.length === 44 && s[0] === HASH_SIGIL && SHAPE.test(s.slice(1)) && fromBase64url(s.slice(1), 32).ok;
