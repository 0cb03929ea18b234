/**
 * Read keys for a newly paired device (docs/protocol.md §9.8): the device
 * that adds a member holds the synod key, so it can open every envelope
 * sealed to the account before that member existed. It gives the new device
 * their content-read keys (§10.4 rule 2), entry by entry, in `read_keys`
 * records: the plaintext of an envelope of kind `read_keys`, in a
 * `private_note` payload on the giving device's feed, sealed to the new
 * device alone.
 */
import * as z from 'zod/mini';
import { fromUtf8, utf8 } from './bytes.ts';
import { fromBase64url, toBase64url } from './encoding.ts';
import { open, seal } from './envelope.ts';
import { fail, ok, type Result } from './errors.ts';
import { hashSchema } from './schema.ts';
import type { Hash } from './encoding.ts';

/** Keys in one record: 64 keep the carrying entry well under `entryBytes` (about 7.5 KiB of envelope). */
export const READ_KEYS_PER_RECORD = 64;

const keySchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/, { message: 'a key is 32 bytes, base64url (43 characters)' }));

export const readKeysSchema = z.strictObject({
  type: z.literal('read_keys'),
  keys: z.array(z.strictObject({ entry: hashSchema, key: keySchema })).check(z.minLength(1), z.maxLength(READ_KEYS_PER_RECORD)),
});
export type ReadKeys = z.infer<typeof readKeysSchema>;

export interface ReadKey {
  readonly entry: Hash;
  readonly key: Uint8Array;
}

/** Seal one record of at most READ_KEYS_PER_RECORD keys to `readers` (the new device). */
export function sealReadKeys(
  keys: readonly ReadKey[],
  options: { author: string; readers: readonly string[]; random?: (n: number) => Uint8Array },
): string {
  const record: ReadKeys = { type: 'read_keys', keys: keys.map((k) => ({ entry: k.entry, key: toBase64url(k.key) })) };
  const checked = readKeysSchema.safeParse(record);
  if (!checked.success) throw new RangeError(`read_keys: ${z.prettifyError(checked.error)}`);
  return seal(utf8(JSON.stringify(record)), {
    author: options.author,
    kind: 'read_keys',
    readers: options.readers,
    ...(options.random && { random: options.random }),
  }).envelope;
}

/** Open a `read_keys` envelope with a reader's seed; a plaintext that is not a record is `bad_schema`. */
export function openReadKeys(envelope: string, readerSeed: Uint8Array, author: string): Result<ReadKey[]> {
  const opened = open(envelope, readerSeed, author, 'read_keys');
  if (!opened.ok) return opened;
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(opened.value.plaintext));
  } catch {
    return fail('bad_json', 'read_keys: not JSON');
  }
  const parsed = readKeysSchema.safeParse(json);
  if (!parsed.success) return fail('bad_schema', `read_keys: ${z.prettifyError(parsed.error)}`);
  const keys: ReadKey[] = [];
  for (const k of parsed.data.keys) {
    const key = fromBase64url(k.key, 32);
    if (!key.ok) return fail('bad_schema', `read_keys: ${key.error.message}`);
    keys.push({ entry: k.entry, key: key.value });
  }
  return ok(keys);
}
