/**
 * Envelopes: one ciphertext readable by several identities (private notes,
 * mutes, drops), in the manner of age's multi-recipient header.
 *
 * A random 32-byte content-read key encrypts the body with
 * XChaCha20-Poly1305. For each reader, X25519 between a fresh ephemeral key
 * and the reader's key (the Montgomery form of its Ed25519 identity) feeds
 * HKDF-SHA256 into a wrap key that seals the content key into a 48-byte slot.
 * Slots carry no recipient names, are shuffled, and are padded with random
 * slots to a power of two (at least 4), so the envelope tells nobody who reads
 * it or exactly how many do: a reader finds its slot by trying. The body's
 * associated data binds the author's identity, the payload type and the whole
 * header, so nobody can lift the ciphertext into an entry of their own or
 * swap slots.
 *
 * Feed-read versus content-read: the entry that carries an envelope is signed
 * in the clear, so anyone holding it can replicate and verify the feed; only
 * a holder of the content-read key (through a slot, or given it directly, as
 * a group shares one) can read the body.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, lengthPrefixed, randomBytes, utf8 } from './bytes.ts';
import { fromBase64url, toBase64url } from './encoding.ts';
import { fail, ok, type Result } from './errors.ts';
import { decodeIdentity } from './keys.ts';
import { LIMITS } from './limits.ts';

export const ENVELOPE_VERSION = 1;
const SLOT_BYTES = 48;
const NONCE_BYTES = 24;
const HEADER_FIXED = 1 + 32 + 1;
const MIN_SLOTS = 4;
const SLOT_INFO = utf8('effigy/v1/envelope-slot');
const BODY_CONTEXT = concat(utf8('effigy/v1/envelope'), new Uint8Array([0]));
const ZERO_NONCE = new Uint8Array(NONCE_BYTES);

/** `recovery`: shares, requests and the records of recovery through friends (recovery.ts), never read as a note. */
export type EnvelopeKind = 'private_note' | 'mute' | 'drop' | 'recovery';

export interface SealOptions {
  /** The identity that will sign the carrying entry. */
  author: string;
  kind: EnvelopeKind;
  /** Reader identities; duplicates are folded. */
  readers: readonly string[];
  /** Reuse a content-read key (a group's); a fresh one is drawn otherwise. */
  contentKey?: Uint8Array;
  /** Randomness source; tests inject a seeded one to produce exact vectors. */
  random?: (length: number) => Uint8Array;
}

export interface Sealed {
  readonly envelope: string;
  readonly contentKey: Uint8Array;
}

const slotCount = (readers: number): number => {
  let n = MIN_SLOTS;
  while (n < readers) n *= 2;
  return n;
};

function wrapKey(shared: Uint8Array, ephemeral: Uint8Array, reader: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concat(ephemeral, reader), SLOT_INFO, 32);
}

function bodyAad(author: Uint8Array, kind: EnvelopeKind, header: Uint8Array): Uint8Array {
  return concat(BODY_CONTEXT, author, lengthPrefixed(utf8(kind)), header);
}

export function seal(plaintext: Uint8Array, options: SealOptions): Sealed {
  const random = options.random ?? randomBytes;
  const author = decodeIdentity(options.author);
  if (!author.ok) throw new TypeError(`author: ${author.error.message}`);
  const readers = [...new Set(options.readers)];
  if (readers.length === 0) throw new RangeError('an envelope needs at least one reader');
  if (readers.length > LIMITS.envelopeReaders) throw new RangeError(`at most ${LIMITS.envelopeReaders} readers`);
  const contentKey = options.contentKey ?? random(32);
  if (contentKey.length !== 32) throw new RangeError('a content-read key is 32 bytes');

  const ephemeralSecret = random(32);
  const ephemeral = x25519.getPublicKey(ephemeralSecret);
  const slots: Uint8Array[] = readers.map((reader) => {
    const key = decodeIdentity(reader);
    if (!key.ok) throw new TypeError(`reader ${reader}: ${key.error.message}`);
    const readerX = ed25519.utils.toMontgomery(key.value);
    const shared = x25519.getSharedSecret(ephemeralSecret, readerX);
    return xchacha20poly1305(wrapKey(shared, ephemeral, readerX), ZERO_NONCE).encrypt(contentKey);
  });
  const total = slotCount(readers.length);
  while (slots.length < total) slots.push(random(SLOT_BYTES));
  // Fisher–Yates with the same randomness source, so the order says nothing.
  const draws = random(4 * slots.length);
  const view = new DataView(draws.buffer, draws.byteOffset, draws.byteLength);
  for (let i = slots.length - 1; i > 0; i--) {
    const j = view.getUint32(4 * i) % (i + 1);
    [slots[i], slots[j]] = [slots[j] as Uint8Array, slots[i] as Uint8Array];
  }

  const header = concat(new Uint8Array([ENVELOPE_VERSION]), ephemeral, new Uint8Array([total]), ...slots);
  const nonce = random(NONCE_BYTES);
  const body = xchacha20poly1305(contentKey, nonce, bodyAad(author.value, options.kind, header)).encrypt(plaintext);
  return { envelope: toBase64url(concat(header, nonce, body)), contentKey };
}

interface Parsed {
  header: Uint8Array;
  ephemeral: Uint8Array;
  slots: Uint8Array[];
  nonce: Uint8Array;
  body: Uint8Array;
}

function parse(envelope: string): Result<Parsed> {
  if (typeof envelope !== 'string' || envelope.length > Math.ceil((LIMITS.entryBytes * 4) / 3)) {
    return fail('too_big', 'envelope too large');
  }
  const raw = fromBase64url(envelope);
  if (!raw.ok) return fail('bad_encoding', `envelope: ${raw.error.message}`);
  const bytes = raw.value;
  if (bytes.length < HEADER_FIXED || bytes[0] !== ENVELOPE_VERSION) return fail('bad_encoding', 'unknown envelope version');
  const count = bytes[HEADER_FIXED - 1] as number;
  if (count < MIN_SLOTS || count > LIMITS.envelopeReaders || (count & (count - 1)) !== 0) {
    return fail('bad_encoding', 'envelope slot count is not a power of two between 4 and 64');
  }
  const headerEnd = HEADER_FIXED + count * SLOT_BYTES;
  if (bytes.length < headerEnd + NONCE_BYTES + 16) return fail('bad_encoding', 'envelope is truncated');
  const slots: Uint8Array[] = [];
  for (let i = 0; i < count; i++) slots.push(bytes.subarray(HEADER_FIXED + i * SLOT_BYTES, HEADER_FIXED + (i + 1) * SLOT_BYTES));
  return ok({
    header: bytes.subarray(0, headerEnd),
    ephemeral: bytes.subarray(1, 33),
    slots,
    nonce: bytes.subarray(headerEnd, headerEnd + NONCE_BYTES),
    body: bytes.subarray(headerEnd + NONCE_BYTES),
  });
}

/** Read with a content-read key directly (a group key, or one found in a slot). */
export function openWithContentKey(envelope: string, contentKey: Uint8Array, author: string, kind: EnvelopeKind): Result<Uint8Array> {
  const parsed = parse(envelope);
  if (!parsed.ok) return parsed;
  const authorKey = decodeIdentity(author);
  if (!authorKey.ok) return fail('bad_key', `author: ${authorKey.error.message}`);
  try {
    const { header, nonce, body } = parsed.value;
    return ok(xchacha20poly1305(contentKey, nonce, bodyAad(authorKey.value, kind, header)).decrypt(body));
  } catch {
    return fail('decrypt_failed', 'the content key does not open this envelope for this author');
  }
}

/** Find the content-read key with a reader's seed, by trying each slot. */
export function findContentKey(envelope: string, readerSeed: Uint8Array): Result<Uint8Array> {
  const parsed = parse(envelope);
  if (!parsed.ok) return parsed;
  const { ephemeral, slots } = parsed.value;
  const secret = ed25519.utils.toMontgomerySecret(readerSeed);
  const readerX = x25519.getPublicKey(secret);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secret, ephemeral);
  } catch {
    return fail('decrypt_failed', 'envelope ephemeral key is unusable');
  }
  const key = wrapKey(shared, ephemeral, readerX);
  for (const slot of slots) {
    try {
      return ok(xchacha20poly1305(key, ZERO_NONCE).decrypt(slot));
    } catch {
      // Not this slot: readers find theirs by trying.
    }
  }
  return fail('decrypt_failed', 'this identity is not a reader of the envelope');
}

export interface Opened {
  readonly plaintext: Uint8Array;
  readonly contentKey: Uint8Array;
}

export function open(envelope: string, readerSeed: Uint8Array, author: string, kind: EnvelopeKind): Result<Opened> {
  const key = findContentKey(envelope, readerSeed);
  if (!key.ok) return key;
  const plaintext = openWithContentKey(envelope, key.value, author, kind);
  return plaintext.ok ? ok({ plaintext: plaintext.value, contentKey: key.value }) : plaintext;
}
