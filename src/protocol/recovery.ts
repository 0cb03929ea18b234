/**
 * Recovery through friends (docs/protocol.md §9.6): what the account, its
 * friends and a new device say to each other, sealed in envelopes of kind
 * `recovery` (§10) so none of it ever reads as a note or a drop.
 *
 * - `recovery_share`: the account (signed by the synod key) gives one friend
 *   one Shamir share of its synod seed (recovery-shares.ts);
 * - `recovery_revoke`: the account asks a friend to forget a set's share;
 * - `recovery_request`: a new device asks a friend for its share back, with
 *   a code the friend must hear from the person before releasing;
 * - `recovery_release`: the friend's share, sealed to the new device alone;
 * - records a device keeps on its own feed, sealed to its own readers so its
 *   other devices know them too: `recovery_kept` (a share held for someone),
 *   `recovery_released` (the log of releases), `recovery_forgotten`, and the
 *   account's own `recovery_set` (whom it chose, and the threshold).
 */
import * as z from 'zod/mini';
import { fromUtf8, randomBytes, utf8 } from './bytes.ts';
import { toBase64url } from './encoding.ts';
import { createEntry, type Entry } from './entry.ts';
import { seal, open } from './envelope.ts';
import { fail, ok, type Result } from './errors.ts';
import type { KeyPair } from './keys.ts';
import { LIMITS } from './limits.ts';
import { chars, endpointSchema, hashSchema, identitySchema, integer, list } from './schema.ts';

export const RECOVERY = {
  /** Friends one set may name; a set needs at least two (Shamir needs a threshold of two or more). */
  maxFriends: 16,
  minFriends: 2,
  /** The code a friend hears from the person, per friend: six decimal digits. */
  codeDigits: 6,
  /** Endpoints where a new device waits for releases. */
  replyTo: 4,
} as const;

/** A set's id: 16 random bytes, base64url. Every split draws a new one. */
const setId = z.string().check(z.length(22), z.regex(/^[A-Za-z0-9_-]+$/));
/** One share: 32 bytes of the seed's polynomial values and the x coordinate, base64url (33 bytes, 44 characters). */
const shareText = z.string().check(z.length(44), z.regex(/^[A-Za-z0-9_-]+$/));
const size = integer(RECOVERY.minFriends, RECOVERY.maxFriends);
const code = z.string().check(z.regex(/^[0-9]{6}$/, { message: 'a recovery code is six digits' }));
const name = z.optional(chars(LIMITS.nameChars, 1));

const thresholdFits = (m: { threshold: number; friends: number }) => m.threshold <= m.friends;
const fits = { message: 'the threshold is at most the number of friends' };

export const recoveryShareSchema = z
  .strictObject({
    type: z.literal('recovery_share'),
    /** The account (synod) whose seed this is a share of; the drop carrying it is signed by it. */
    account: identitySchema,
    set: setId,
    /** Shares needed (k) and shares made (n). */
    threshold: size,
    friends: size,
    share: shareText,
    /** The account's name, for the friend to recognise it. */
    name,
  })
  .check(z.refine(thresholdFits, fits));

export const recoveryRevokeSchema = z.strictObject({ type: z.literal('recovery_revoke'), account: identitySchema, set: setId });

export const recoveryRequestSchema = z.strictObject({
  type: z.literal('recovery_request'),
  /** What the person calls themselves (the friend checks it out of band). */
  name: chars(LIMITS.nameChars, 1),
  /** The account, when the person still knows its identity; else the friend picks among the shares it holds. */
  account: z.optional(identitySchema),
  /** Six digits drawn for this friend alone: the new device shows them, the friend types what the person reads out. */
  code,
  /** Dropboxes where the new device collects the releases. */
  replyTo: list(endpointSchema, RECOVERY.replyTo).check(z.minLength(1)),
});

export const recoveryReleaseSchema = z
  .strictObject({
    type: z.literal('recovery_release'),
    account: identitySchema,
    set: setId,
    threshold: size,
    friends: size,
    share: shareText,
    /** The request entry this answers. */
    request: hashSchema,
  })
  .check(z.refine(thresholdFits, fits));

export const recoveryKeptSchema = z.strictObject({
  type: z.literal('recovery_kept'),
  /** The hash of the drop that delivered it, and that drop's `comparable`: the newest share of an account wins. */
  entry: hashSchema,
  issued: integer(1),
  share: recoveryShareSchema,
});

export const recoveryReleasedSchema = z.strictObject({
  type: z.literal('recovery_released'),
  account: identitySchema,
  set: setId,
  /** The new device the share went to, and the request it answered. */
  to: identitySchema,
  request: hashSchema,
  name,
});

export const recoveryForgottenSchema = z.strictObject({ type: z.literal('recovery_forgotten'), account: identitySchema, set: setId });

export const recoverySetSchema = z
  .strictObject({
    type: z.literal('recovery_set'),
    set: setId,
    threshold: size,
    /** The friends (accounts, or devices without one), in the order the shares were made. */
    friends: list(identitySchema, RECOVERY.maxFriends).check(z.minLength(RECOVERY.minFriends)),
  })
  .check(z.refine((m) => m.threshold <= m.friends.length, fits));

export const recoveryMessageSchema = z.union([
  recoveryShareSchema,
  recoveryRevokeSchema,
  recoveryRequestSchema,
  recoveryReleaseSchema,
  recoveryKeptSchema,
  recoveryReleasedSchema,
  recoveryForgottenSchema,
  recoverySetSchema,
]);

export type RecoveryShare = z.infer<typeof recoveryShareSchema>;
export type RecoveryRequest = z.infer<typeof recoveryRequestSchema>;
export type RecoveryRelease = z.infer<typeof recoveryReleaseSchema>;
export type RecoveryMessage = z.infer<typeof recoveryMessageSchema>;
export type RecoveryType = RecoveryMessage['type'];
export type RecoveryOf<T extends RecoveryType> = Extract<RecoveryMessage, { type: T }>;

/** A fresh set id. */
export const newRecoverySet = (random: (n: number) => Uint8Array = randomBytes): string => toBase64url(random(16));

/** Six uniformly random digits (bytes ≥ 250 are redrawn, as pairing codes are). */
export function newRecoveryCode(random: (n: number) => Uint8Array = randomBytes): string {
  let out = '';
  while (out.length < RECOVERY.codeDigits) {
    for (const b of random(8)) if (b < 250 && out.length < RECOVERY.codeDigits) out += String(b % 10);
  }
  return out;
}

/** A code as a person types it: digits only, spaces and dashes ignored. */
export const normalizeRecoveryCode = (typed: string): string => typed.replace(/[\s-]/g, '');

/** Check a message against its schema (throws on a programming error: authors are trusted code). */
function checked(message: RecoveryMessage): string {
  const parsed = recoveryMessageSchema.safeParse(message);
  if (!parsed.success) throw new TypeError(`invalid recovery message: ${z.prettifyError(parsed.error)}`);
  return JSON.stringify(message);
}

export interface RecoverySealOptions {
  /** The identity that signs the carrying entry. */
  author: string;
  readers: readonly string[];
  random?: (n: number) => Uint8Array;
}

/** Seal a recovery message: an envelope of kind `recovery` (§10.2). */
export function sealRecovery(message: RecoveryMessage, options: RecoverySealOptions): string {
  return seal(utf8(checked(message)), {
    author: options.author,
    kind: 'recovery',
    readers: options.readers,
    ...(options.random && { random: options.random }),
  }).envelope;
}

/** Open a recovery envelope with a reader's seed; a plaintext that is not a recovery message is `bad_schema`. */
export function openRecovery(envelope: string, readerSeed: Uint8Array, author: string): Result<RecoveryMessage> {
  const opened = open(envelope, readerSeed, author, 'recovery');
  if (!opened.ok) return opened;
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(opened.value.plaintext));
  } catch {
    return fail('bad_json', 'recovery message: not JSON');
  }
  const parsed = recoveryMessageSchema.safeParse(json);
  return parsed.success ? ok(parsed.data) : fail('bad_schema', `recovery message: ${z.prettifyError(parsed.error)}`);
}

/**
 * A recovery message as a standalone entry (a drop, §13.5): parent null,
 * no synod claim, a `private_note` whose envelope is of kind `recovery`.
 */
export async function recoveryDrop(
  signer: KeyPair,
  readers: readonly string[],
  message: RecoveryMessage,
  options: { now?: number; random?: (n: number) => Uint8Array } = {},
): Promise<Entry> {
  const envelope = sealRecovery(message, { author: signer.identity, readers, ...(options.random && { random: options.random }) });
  return createEntry(signer, {
    parent: null,
    comparable: options.now ?? Date.now(),
    synod: null,
    payload: { type: 'private_note', envelope },
  });
}

/** The recovery message an entry carries for a reader, or null (not a private note, not for this seed, not a recovery message). */
export function readRecovery(entry: Entry, seeds: readonly Uint8Array[]): RecoveryMessage | null {
  const p = entry.body.payload;
  if (p.type !== 'private_note') return null;
  for (const seed of seeds) {
    const r = openRecovery(p.envelope, seed, entry.body.identity);
    if (r.ok) return r.value;
  }
  return null;
}
