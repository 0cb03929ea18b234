/**
 * Entries: `<body JSON>` + "\n" + `<signature>`, as UTF-8 text.
 *
 * The signature covers the exact body bytes that travel (domain-separated),
 * and the entry's name is SHA-256 of the whole text, signature included. A
 * verifier never re-serializes anything: the lesson of Scuttlebutt's and
 * Nostr's canonical-JSON troubles. Validation runs in a fixed order — size,
 * hash, signature, identity match, schema — so the cheapest and most
 * fundamental checks reject first, and nothing is trusted before it is signed.
 */
import * as z from 'zod/mini';
import { isWellFormed, utf8, utf8Length } from './bytes.ts';
import { domainPrefix } from './domain.ts';
import { verify } from './ed25519.ts';
import { decodeSignature, SIGNATURE_TEXT_LENGTH, type Hash, type Identity, type SignatureText } from './encoding.ts';
import { fail, ok, type Result } from './errors.ts';
import { hashOf } from './hash.ts';
import { decodeIdentity, type KeyPair } from './keys.ts';
import { LIMITS } from './limits.ts';
import { PAYLOAD_TYPES, payloadSchema, type Payload } from './payloads.ts';
import { comparableSchema, hashSchema, identitySchema } from './schema.ts';

export const entryBodySchema = z.strictObject({
  identity: identitySchema,
  parent: z.nullable(hashSchema),
  comparable: comparableSchema,
  /** [synod identity, synod head] this identity claims membership of; null outside a synod. */
  synod: z.nullable(z.tuple([identitySchema, hashSchema])),
  payload: payloadSchema,
});

export type EntryBody = z.infer<typeof entryBodySchema>;

export interface Entry {
  /** SHA-256 of the whole entry text: its name everywhere. */
  readonly hash: Hash;
  /** The exact text that travels and is stored. */
  readonly text: string;
  /** UTF-8 bytes of `text`. */
  readonly size: number;
  readonly body: EntryBody;
  readonly signature: SignatureText;
}

export interface EntryFields {
  parent: Hash | null;
  comparable: number;
  synod: readonly [Identity, Hash] | null;
  payload: Payload;
}

const SEPARATOR = 0x0a;
const TAIL = SIGNATURE_TEXT_LENGTH + 1;
const ENTRY_PREFIX = domainPrefix('entry');
const encoder = new TextEncoder();

/** Escaped lone surrogates survive JSON.stringify as escapes, so look inside the values. */
function stringsWellFormed(value: unknown): boolean {
  if (typeof value === 'string') return isWellFormed(value);
  if (typeof value !== 'object' || value === null) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (!stringsWellFormed(v)) return false;
  return true;
}

/**
 * In text that JSON.stringify wrote, a `\uD800`–`\uDFFF` escape appears
 * only for a lone surrogate (pairs are written raw), so a scan of the
 * canonical body finds them without walking the parsed value. An escape
 * counts only behind an odd run of backslashes (`\\` is a literal one).
 */
function hasEscapedSurrogate(canonical: string): boolean {
  if (!canonical.includes('\\ud')) return false;
  for (const m of canonical.matchAll(/(\\+)ud[89a-f][0-9a-f]{2}/g)) if ((m[1] as string).length % 2 === 1) return true;
  return false;
}

/** Sign a new entry. Throws on a programming error (invalid payload, too big): authors are trusted code. */
export async function createEntry(keys: KeyPair, fields: EntryFields): Promise<Entry> {
  const body = {
    identity: keys.identity,
    parent: fields.parent,
    comparable: fields.comparable,
    synod: fields.synod,
    payload: fields.payload,
  };
  const checked = entryBodySchema.safeParse(body);
  if (!checked.success) throw new TypeError(`invalid entry: ${z.prettifyError(checked.error)}`);
  if (!stringsWellFormed(body)) throw new TypeError('invalid entry: a string holds a lone surrogate');
  const bodyText = JSON.stringify(body);
  const signature = await keys.sign('entry', utf8(bodyText));
  const text = `${bodyText}\n${signature}`;
  const size = utf8Length(text);
  if (size > LIMITS.entryBytes) throw new RangeError(`entry is ${size} bytes, the limit is ${LIMITS.entryBytes}`);
  return { hash: hashOf(utf8(text)), text, size, body: checked.data, signature };
}

/**
 * Rebuilds an entry from text this program validated (openEntry) when it
 * stored it: only the body is parsed, with no hash or signature work. Never
 * use it on text from the network.
 */
export function trustedEntry(hash: Hash, text: string): Entry {
  return {
    hash,
    text,
    size: utf8Length(text),
    body: JSON.parse(text.slice(0, text.length - TAIL)) as EntryBody,
    signature: text.slice(text.length - SIGNATURE_TEXT_LENGTH) as SignatureText,
  };
}

export interface EntryExpectation {
  /** The name it was asked for by: the hash must match. */
  hash?: Hash;
  /** The identity it was announced for ([identity, head]): the signer must match. */
  identity?: string;
}

/** Validate untrusted entry text. Never throws; a failure says what is wrong. */
export async function openEntry(text: unknown, expect: EntryExpectation = {}): Promise<Result<Entry>> {
  if (typeof text !== 'string') return fail('bad_schema', 'an entry is a string');
  // 1. size — measured before anything is allocated from it.
  if (text.length > LIMITS.entryBytes) return fail('too_big', `entry exceeds ${LIMITS.entryBytes} bytes`);
  if (!isWellFormed(text)) return fail('bad_encoding', 'entry text holds a lone surrogate');
  // The entry is encoded once, right behind the entry-domain prefix, so the
  // signed message is a view of the same buffer rather than a copy.
  const written = utf8Length(text);
  if (written > LIMITS.entryBytes) return fail('too_big', `entry is ${written} bytes, the limit is ${LIMITS.entryBytes}`);
  const buffer = new Uint8Array(ENTRY_PREFIX.length + written);
  buffer.set(ENTRY_PREFIX);
  encoder.encodeInto(text, buffer.subarray(ENTRY_PREFIX.length));
  const bytes = buffer.subarray(ENTRY_PREFIX.length, ENTRY_PREFIX.length + written);
  // 2. hash
  const hash = hashOf(bytes);
  if (expect.hash !== undefined && hash !== expect.hash) {
    return fail('bad_hash', `entry hashes to ${hash}, not the ${expect.hash} asked for`);
  }
  // 3. signature — over the body bytes exactly as received.
  if (written <= TAIL || bytes[written - TAIL] !== SEPARATOR) {
    return fail('bad_encoding', 'an entry is body JSON, a newline, and an 86-character signature');
  }
  const signature = text.slice(text.length - SIGNATURE_TEXT_LENGTH) as SignatureText;
  const sig = decodeSignature(signature);
  if (!sig.ok) return fail('bad_signature', `signature: ${sig.error.message}`);
  let raw: unknown;
  try {
    // The tail is ASCII (checked above), so the body is the text minus its last TAIL characters.
    raw = JSON.parse(text.slice(0, text.length - TAIL));
  } catch {
    return fail('bad_json', 'entry body is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('bad_schema', 'entry body is not a JSON object');
  // One payload, one spelling: the body must be exactly what JSON.stringify
  // writes for what it parses to. The signature still covers the bytes as
  // received; this only refuses malleable spellings, above all duplicate
  // member names, which parsers in other languages may resolve differently.
  const bodyText = text.slice(0, text.length - TAIL);
  if (JSON.stringify(raw) !== bodyText) {
    return fail('bad_encoding', 'entry body is not compact JSON as JSON.stringify writes it (whitespace, escapes or duplicate members)');
  }
  if (hasEscapedSurrogate(bodyText)) return fail('bad_encoding', 'entry body holds an escaped lone surrogate');
  const claimed = (raw as { identity?: unknown }).identity;
  if (typeof claimed !== 'string') return fail('bad_schema', 'entry has no identity');
  const key = decodeIdentity(claimed);
  if (!key.ok) return fail('bad_key', `entry identity: ${key.error.message}`);
  const signed = buffer.subarray(0, ENTRY_PREFIX.length + written - TAIL);
  if (!(await verify(key.value, signed, sig.value, claimed))) {
    return fail('bad_signature', `signature does not verify for ${claimed}`);
  }
  // 4. identity match
  if (expect.identity !== undefined && claimed !== expect.identity) {
    return fail('wrong_identity', `entry is signed by ${claimed}, announced as ${expect.identity}`);
  }
  // 5. schema
  const payloadType = (raw as { payload?: { type?: unknown } }).payload?.type;
  if (typeof payloadType === 'string' && !(PAYLOAD_TYPES as readonly string[]).includes(payloadType)) {
    return fail('unknown_type', `unknown payload type "${payloadType.slice(0, 40)}"`);
  }
  const body = entryBodySchema.safeParse(raw);
  if (!body.success) return fail('bad_schema', z.prettifyError(body.error));
  return ok({ hash, text, size: bytes.length, body: body.data, signature });
}
