/**
 * zod schemas for the protocol's scalar forms, shared by payloads and wire
 * messages. The protocol uses zod/mini (functions rather than methods, so a
 * bundle carries only the checks it uses) with zod's English messages.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { decodeHash, decodeSignature, type Hash, type Identity, type SignatureText } from './encoding.ts';
import { decodeIdentity } from './keys.ts';
import { LIMITS } from './limits.ts';

// zod/mini loads no messages by default ("Invalid input" for everything); these are the ones of zod proper.
z.config(en());

/** A string schema whose output is a branded string: the check proved the brand, so no transform runs. */
const branded = <T extends string>(schema: z.ZodMiniType<string, string>) => schema as unknown as z.ZodMiniType<T, string>;

/** A string of at most `max` UTF-16 units (§1.1 rule 3). */
export const chars = (max: number, min = 0) => z.string().check(...(min > 0 ? [z.minLength(min)] : []), z.maxLength(max));

/** An integer from `min` to `max`. */
export const integer = (min: number, max: number = Number.MAX_SAFE_INTEGER) => z.int().check(z.gte(min), z.lte(max));

export const identitySchema = branded<Identity>(
  z.string().check(
    z.length(44),
    z.refine((s: string) => decodeIdentity(s).ok, { message: 'not a valid identity (canonical "@" + base64url Ed25519 key)' }),
  ),
);

export const hashSchema = branded<Hash>(
  z.string().check(
    z.length(44),
    z.refine((s: string) => decodeHash(s).ok, { message: 'not a valid hash ("&" + base64url SHA-256)' }),
  ),
);

export const signatureSchema = branded<SignatureText>(
  z.string().check(
    z.length(86),
    z.refine((s: string) => decodeSignature(s).ok, { message: 'not a valid signature (86 base64url characters)' }),
  ),
);

/** A positive safe integer: the design's `comparable`. */
export const comparableSchema = integer(1);

export const sizeSchema = integer(0);

/** A pointer to a blob: its hash and its size, so a peer can decide before fetching. */
export const blobRefSchema = z.strictObject({ hash: hashSchema, size: sizeSchema });
export type BlobRef = z.infer<typeof blobRefSchema>;

/** Endpoints people publish in their synod: https, or http/ws only for local development. */
export const endpointSchema = z.string().check(
  z.maxLength(LIMITS.urlChars),
  z.refine(
    (s: string) => {
      try {
        const u = new URL(s);
        if (u.username || u.password) return false;
        if (u.protocol === 'https:' || u.protocol === 'wss:') return true;
        return (u.protocol === 'http:' || u.protocol === 'ws:') && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
      } catch {
        return false;
      }
    },
    { message: 'an endpoint is an https:// or wss:// URL (http only for localhost)' },
  ),
);

/** A reference to an entry: its hash plus its author, so the feed can be located. */
export const entryRefSchema = z.strictObject({ entry: hashSchema, identity: identitySchema });
export type EntryRef = z.infer<typeof entryRefSchema>;

/** base64url bytes with an upper bound, checked before decoding. */
export const base64urlSchema = (maxBytes: number) =>
  z.string().check(z.maxLength(Math.ceil((maxBytes * 4) / 3)), z.regex(/^[A-Za-z0-9_-]*$/, { message: 'not base64url' }));

/** An array of at most `max` items. */
export const list = <T extends z.ZodMiniType>(item: T, max: number) => z.array(item).check(z.maxLength(max));
