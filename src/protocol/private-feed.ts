/**
 * Private feeds (docs/protocol.md §10.6), after Textile's feed-read keys: a
 * person seals the payloads of their feed with a feed-read key, and gives
 * that key to the followers they approve in `feed_key` envelopes. The
 * entries stay signed JSON with `parent`, `comparable` and `synod` in the
 * clear, so any peer (and a room) replicates and validates them without
 * reading them; only a key holder opens the `sealed` payload.
 *
 *   sealed.key = base64url(SHA-256("effigy/v1/feed-key" ‖ 0x00 ‖ key)[0..16])
 *   sealed.box = base64url(nonce ‖ XChaCha20-Poly1305(key, nonce,
 *                  AAD = "effigy/v1/sealed" ‖ 0x00 ‖ author key).encrypt(payload JSON))
 *
 * The AAD binds the author, not the entry, so a rebase may re-sign a sealed
 * entry (new hash, same payload) and it still opens; nobody can lift the box
 * into an entry of their own. Removing a follower is drawing a new key and
 * giving it to the others: what the removed follower already read stays read.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as z from 'zod/mini';
import { concat, fromUtf8, randomBytes, utf8 } from './bytes.ts';
import { fromBase64url, toBase64url, type Identity } from './encoding.ts';
import { open, seal } from './envelope.ts';
import { fail, ok, type Result } from './errors.ts';
import { decodeIdentity } from './keys.ts';
import { payloadSchema, type Payload, type PayloadOf, type PayloadType } from './payloads.ts';

/** What a private feed seals: content. Relations (follow, block) stay readable, because peers and servers act on them. */
export const SEALABLE_TYPES: readonly PayloadType[] = ['public_note', 'image', 'collection', 'comment', 'tag'];

/** Feed-read keys one `feed_key` envelope may carry (the newest last). */
export const FEED_KEYS_PER_ENVELOPE = 64;

const KEY_ID_CONTEXT = concat(utf8('effigy/v1/feed-key'), new Uint8Array([0]));
const SEALED_CONTEXT = concat(utf8('effigy/v1/sealed'), new Uint8Array([0]));
const NONCE_BYTES = 24;

/** The id a sealed payload names its key by: 16 bytes of the key's domain-separated hash. */
export const feedKeyId = (key: Uint8Array): string => toBase64url(sha256(concat(KEY_ID_CONTEXT, key)).subarray(0, 16));

export const newFeedKey = (random: (n: number) => Uint8Array = randomBytes): Uint8Array => random(32);

function aad(author: Identity): Uint8Array {
  const key = decodeIdentity(author);
  if (!key.ok) throw new TypeError(`author: ${key.error.message}`);
  return concat(SEALED_CONTEXT, key.value);
}

/** Seal a content payload for a private feed. Throws on a programming error (a type that is not sealed, a bad key). */
export function sealPayload(
  payload: Payload,
  options: { author: Identity; key: Uint8Array; random?: (n: number) => Uint8Array },
): PayloadOf<'sealed'> {
  if (!SEALABLE_TYPES.includes(payload.type)) throw new TypeError(`a private feed does not seal ${payload.type} payloads`);
  if (options.key.length !== 32) throw new RangeError('a feed-read key is 32 bytes');
  const nonce = (options.random ?? randomBytes)(NONCE_BYTES);
  const box = xchacha20poly1305(options.key, nonce, aad(options.author)).encrypt(utf8(JSON.stringify(payload)));
  return { type: 'sealed', key: feedKeyId(options.key), box: toBase64url(concat(nonce, box)) };
}

/** The payload inside a sealed one, with the key it names; `author` is the identity that signed the carrying entry. */
export function openSealed(sealed: PayloadOf<'sealed'>, key: Uint8Array, author: Identity): Result<Payload> {
  if (feedKeyId(key) !== sealed.key) return fail('decrypt_failed', 'this is not the key the payload names');
  const raw = fromBase64url(sealed.box);
  if (!raw.ok) return fail('bad_encoding', `sealed box: ${raw.error.message}`);
  if (raw.value.length < NONCE_BYTES + 16) return fail('bad_encoding', 'sealed box is truncated');
  const authorKey = decodeIdentity(author);
  if (!authorKey.ok) return fail('bad_key', `author: ${authorKey.error.message}`);
  let plain: Uint8Array;
  try {
    plain = xchacha20poly1305(key, raw.value.subarray(0, NONCE_BYTES), concat(SEALED_CONTEXT, authorKey.value)).decrypt(
      raw.value.subarray(NONCE_BYTES),
    );
  } catch {
    return fail('decrypt_failed', 'the key does not open this payload for this author');
  }
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(plain));
  } catch {
    return fail('bad_json', 'the sealed payload is not JSON');
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) return fail('bad_schema', `sealed payload: ${z.prettifyError(parsed.error)}`);
  if (!SEALABLE_TYPES.includes(parsed.data.type)) return fail('bad_schema', `a private feed does not seal ${parsed.data.type} payloads`);
  return ok(parsed.data);
}

const keysPlaintext = z.strictObject({
  keys: z.array(z.string().check(z.length(43), z.regex(/^[A-Za-z0-9_-]+$/))).check(z.minLength(1), z.maxLength(FEED_KEYS_PER_ENVELOPE)),
});

/** A `feed_key` payload giving `keys` (oldest first) to `readers`, sealed as envelope kind `feed_key` (§10.2). */
export function sealFeedKeys(
  keys: readonly Uint8Array[],
  options: { author: Identity; readers: readonly Identity[]; random?: (n: number) => Uint8Array },
): PayloadOf<'feed_key'> {
  if (keys.length === 0 || keys.length > FEED_KEYS_PER_ENVELOPE) throw new RangeError(`1 to ${FEED_KEYS_PER_ENVELOPE} keys`);
  const plaintext = utf8(JSON.stringify({ keys: keys.map((k) => toBase64url(k)) }));
  const { envelope } = seal(plaintext, {
    author: options.author,
    kind: 'feed_key',
    readers: options.readers,
    ...(options.random && { random: options.random }),
  });
  return { type: 'feed_key', envelope };
}

/** The keys a `feed_key` payload gives, if `readerSeed` is one of its readers. */
export function openFeedKeys(payload: PayloadOf<'feed_key'>, readerSeed: Uint8Array, author: Identity): Result<Uint8Array[]> {
  const opened = open(payload.envelope, readerSeed, author, 'feed_key');
  if (!opened.ok) return opened;
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(opened.value.plaintext));
  } catch {
    return fail('bad_json', 'feed_key plaintext is not JSON');
  }
  const parsed = keysPlaintext.safeParse(json);
  if (!parsed.success) return fail('bad_schema', `feed_key plaintext: ${z.prettifyError(parsed.error)}`);
  const keys: Uint8Array[] = [];
  for (const text of parsed.data.keys) {
    const key = fromBase64url(text, 32);
    if (!key.ok) return fail('bad_schema', `feed_key plaintext: ${key.error.message}`);
    keys.push(key.value);
  }
  return ok(keys);
}
