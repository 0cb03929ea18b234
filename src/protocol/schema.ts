/** zod schemas for the protocol's scalar forms, shared by payloads and wire messages. */
import { z } from 'zod';
import { decodeHash, decodeSignature, type Hash, type Identity, type SignatureText } from './encoding.ts';
import { decodeIdentity } from './keys.ts';
import { LIMITS } from './limits.ts';

export const identitySchema = z
  .string()
  .length(44)
  .refine((s) => decodeIdentity(s).ok, { message: 'not a valid identity (canonical "@" + base64url Ed25519 key)' })
  .transform((s) => s as Identity);

export const hashSchema = z
  .string()
  .length(44)
  .refine((s) => decodeHash(s).ok, { message: 'not a valid hash ("&" + base64url SHA-256)' })
  .transform((s) => s as Hash);

export const signatureSchema = z
  .string()
  .length(86)
  .refine((s) => decodeSignature(s).ok, { message: 'not a valid signature (86 base64url characters)' })
  .transform((s) => s as SignatureText);

/** A positive safe integer: the design's `comparable`. */
export const comparableSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const sizeSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A pointer to a blob: its hash and its size, so a peer can decide before fetching. */
export const blobRefSchema = z.strictObject({ hash: hashSchema, size: sizeSchema });
export type BlobRef = z.infer<typeof blobRefSchema>;

/** Endpoints people publish in their synod: https, or http/ws only for local development. */
export const endpointSchema = z
  .string()
  .max(LIMITS.urlChars)
  .refine(
    (s) => {
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
  );

/** A reference to an entry: its hash plus its author, so the feed can be located. */
export const entryRefSchema = z.strictObject({ entry: hashSchema, identity: identitySchema });
export type EntryRef = z.infer<typeof entryRefSchema>;

/** base64url bytes with an upper bound, checked before decoding. */
export const base64urlSchema = (maxBytes: number) =>
  z
    .string()
    .max(Math.ceil((maxBytes * 4) / 3))
    .regex(/^[A-Za-z0-9_-]*$/, { message: 'not base64url' });
