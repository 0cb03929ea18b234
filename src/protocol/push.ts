/**
 * Web Push (docs/protocol.md §15.6): how a device asks a server to wake it
 * when a drop or a call comes while the app is closed, and what the push
 * says. The server sends RFC 8030 pushes, encrypted to the browser (RFC
 * 8291, padded to 4096 bytes) and authorised with VAPID (RFC 8292); a push
 * names no sender and carries no content: "a message", or "a call" with the
 * caller's identity, which the device turns into a name only if it knows it.
 */
import * as z from 'zod/mini';
import { utf8 } from './bytes.ts';
import type { Hash } from './encoding.ts';
import { hashOf } from './hash.ts';
import { LIMITS } from './limits.ts';
import { chars, identitySchema } from './schema.ts';

export const PUSH = {
  /** The registration route: `/api/push/<hash of the body>` (the path binds the body to the signature, §15.1). */
  path: '/api/push',
  /** A registration body, in UTF-8 bytes. */
  bodyBytes: 4096,
  /** A push service endpoint URL. */
  endpointChars: 1024,
} as const;

export const PUSH_KINDS = ['message', 'call'] as const;
export type PushKind = (typeof PUSH_KINDS)[number];

const b64url = (length: number) => z.string().check(z.length(length), z.regex(/^[A-Za-z0-9_-]+$/, { message: 'not base64url' }));

/** An https URL, as push services give them. */
const pushEndpoint = chars(PUSH.endpointChars, 1).check(
  z.refine(
    (s: string) => {
      try {
        const u = new URL(s);
        return u.protocol === 'https:' && !u.username && !u.password;
      } catch {
        return false;
      }
    },
    { message: 'a push endpoint is an https:// URL (RFC 8030)' },
  ),
);

/** `PUT /api/push/<hash>`: subscribe this device (and, with `member`, its account) to pushes. */
export const pushSubscribeSchema = z.strictObject({
  endpoint: pushEndpoint,
  keys: z.strictObject({
    /** The browser's P-256 key, uncompressed (65 bytes), base64url. */
    p256dh: b64url(87),
    /** The 16-byte authentication secret, base64url. */
    auth: b64url(22),
  }),
  /** What to be woken for. */
  kinds: z.array(z.enum(PUSH_KINDS)).check(z.minLength(1), z.maxLength(PUSH_KINDS.length)),
  /** The text of the synod entry that added the signing device: pushes for the account's drops come here too. */
  member: z.optional(chars(LIMITS.entryBytes)),
});
export type PushSubscribe = z.infer<typeof pushSubscribeSchema>;

/** `DELETE /api/push/<hash>`: this device no longer wants pushes at this endpoint. */
export const pushUnsubscribeSchema = z.strictObject({ endpoint: pushEndpoint });
export type PushUnsubscribe = z.infer<typeof pushUnsubscribeSchema>;

/** What a push carries, decrypted in the browser's service worker. */
export const pushPayloadSchema = z.union([
  z.strictObject({ v: z.literal(1), kind: z.literal('message') }),
  /** `from`: the calling device, for the device to name if it knows it. */
  z.strictObject({ v: z.literal(1), kind: z.literal('call'), from: identitySchema }),
]);
export type PushPayload = z.infer<typeof pushPayloadSchema>;

/** The hash a registration's path names: SHA-256 of the exact body bytes. */
export const pushBodyHash = (body: string): Hash => hashOf(utf8(body));

/** The canonical path a registration signs (§15.1): `/api/push/` and the body's hash. */
export const pushPath = (body: string): string => `${PUSH.path}/${pushBodyHash(body)}`;
