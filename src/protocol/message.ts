/**
 * Messages (docs/protocol.md §10.5): what a private note or a drop says when
 * it is part of a conversation. The plaintext is a JSON object naming the
 * people it is for (the envelope itself hides its readers), so every copy
 * shows a "to" line and threads group by the same people. A message to
 * someone who does not follow the sender carries the sender's card: the
 * synod entries that prove the sending device belongs to an account, and
 * that account's profile, so a stranger's name shows without fetching
 * anything. Plaintext that is not a message is a plain note, shown as text.
 */
import * as z from 'zod/mini';
import { randomBytes } from './bytes.ts';
import { toBase64url, type Identity } from './encoding.ts';
import { openEntry } from './entry.ts';
import { fail, ok, type Result } from './errors.ts';
import { LIMITS } from './limits.ts';
import { chars, endpointSchema, identitySchema, list, type BlobRef } from './schema.ts';
import { verifyMembership } from './synod.ts';

/** A message's text: shorter than a note's, so a drop with its card fits one entry (15 KiB). */
export const MESSAGE_TEXT_CHARS = 4000;

export const messageSchema = z.strictObject({
  type: z.literal('message'),
  /** 16 random bytes, base64url: the same for every copy (feed note, drops), so readers keep one. */
  id: z.string().check(z.length(22), z.regex(/^[A-Za-z0-9_-]+$/)),
  /** The people it is for, as the sender named them (accounts, or devices without one); never the sender. */
  to: list(identitySchema, LIMITS.envelopeReaders).check(z.minLength(1)),
  text: chars(MESSAGE_TEXT_CHARS, 1),
  /** The sender's card, on messages to people who may not follow the sender. */
  from: z.optional(
    z.strictObject({
      /** The text of the synod entry that added the sending device (`add_device`). */
      device: chars(LIMITS.entryBytes),
      /** The text of the synod's latest `identification` entry. */
      profile: z.optional(chars(LIMITS.entryBytes)),
      /** Dropboxes where replies reach the sender. */
      dropboxes: z.optional(list(endpointSchema, 4)),
    }),
  ),
});
export type Message = z.infer<typeof messageSchema>;
export type SenderCard = NonNullable<Message['from']>;

export const newMessageId = (): string => toBase64url(randomBytes(16));

/** A plaintext as a message, or null when it is a plain note (text written before messages, or by another client). */
export function parseMessage(plaintext: string): Message | null {
  if (!plaintext.startsWith('{')) return null;
  try {
    const parsed = messageSchema.safeParse(JSON.parse(plaintext));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export interface VerifiedSender {
  /** The account the sending device belongs to. */
  readonly synod: Identity;
  readonly name?: string;
  readonly about?: string;
  readonly avatar?: BlobRef;
}

/**
 * Check a card against the identity that signed the message: the `add_device`
 * entry must be signed by a synod, name `sender`, and carry a membership proof
 * that verifies (§9.1); the profile, when present, must be signed by the same
 * synod. Revocations are not known from a card: it proves membership once held.
 */
export async function verifySender(card: SenderCard, sender: Identity): Promise<Result<VerifiedSender>> {
  const added = await openEntry(card.device);
  if (!added.ok) return fail(added.error.code, `card: ${added.error.message}`);
  const p = added.value.body.payload;
  const synod = added.value.body.identity;
  if (p.type !== 'synod' || p.op !== 'add_device' || p.device !== sender)
    return fail('not_member', 'card: the entry does not add the sending device');
  if (!(await verifyMembership(synod, sender, p.proof))) return fail('bad_signature', 'card: the membership proof does not verify');
  if (card.profile === undefined) return ok({ synod });
  const profile = await openEntry(card.profile);
  if (!profile.ok) return fail(profile.error.code, `card profile: ${profile.error.message}`);
  const q = profile.value.body.payload;
  if (profile.value.body.identity !== synod || q.type !== 'identification')
    return fail('wrong_identity', 'card: the profile is not an identification by the same synod');
  return ok({
    synod,
    ...(q.name !== undefined && { name: q.name }),
    ...(q.about !== undefined && { about: q.about }),
    ...(q.avatar !== undefined && { avatar: q.avatar }),
  });
}
