/**
 * The eleven payload types of the design. A payload is a JSON object whose
 * `type` names it; private_note and mute carry an encrypted envelope.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { base64urlSchema, blobRefSchema, endpointSchema, entryRefSchema, identitySchema, signatureSchema } from './schema.ts';

const text = z.string().min(1).max(LIMITS.textChars);
const envelope = base64urlSchema(LIMITS.entryBytes);

/** Synod operations live in the synod's own feed, signed by the synod key. */
const synodAddDevice = z.strictObject({
  type: z.literal('synod'),
  op: z.literal('add_device'),
  device: identitySchema,
  /** The device's signature over the membership statement (see synod.ts). */
  proof: signatureSchema,
  name: z.string().max(LIMITS.nameChars).optional(),
});
const synodRevokeDevice = z.strictObject({
  type: z.literal('synod'),
  op: z.literal('revoke_device'),
  device: identitySchema,
  /** The device's last valid comparable: its entries above it are invalid. */
  cut: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
const synodServers = z.strictObject({
  type: z.literal('synod'),
  op: z.literal('servers'),
  signalling: z.array(endpointSchema).max(LIMITS.servers),
  dropboxes: z.array(endpointSchema).max(LIMITS.servers),
});
const synodFinal = z.strictObject({ type: z.literal('synod'), op: z.literal('final') });
export const synodPayloadSchema = z.discriminatedUnion('op', [synodAddDevice, synodRevokeDevice, synodServers, synodFinal]);

export const identificationSchema = z.strictObject({
  type: z.literal('identification'),
  name: z.string().max(LIMITS.nameChars).optional(),
  about: z.string().max(LIMITS.aboutChars).optional(),
  avatar: blobRefSchema.optional(),
});

export const publicNoteSchema = z.strictObject({
  type: z.literal('public_note'),
  text,
  mentions: z.array(identitySchema).max(32).optional(),
});

/** Encrypted to several readers; see envelope.ts. */
export const privateNoteSchema = z.strictObject({ type: z.literal('private_note'), envelope });

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif'] as const;
export const imageSchema = z.strictObject({
  type: z.literal('image'),
  blob: blobRefSchema,
  mime: z.enum(IMAGE_TYPES),
  width: z.number().int().min(1).max(65_535).optional(),
  height: z.number().int().min(1).max(65_535).optional(),
  alt: z.string().max(LIMITS.aboutChars).optional(),
  caption: z.string().max(LIMITS.textChars).optional(),
});

/** A directory blob (directory.ts) is the Merkle root of the collection. */
export const collectionSchema = z.strictObject({
  type: z.literal('collection'),
  root: blobRefSchema,
  name: z.string().max(LIMITS.nameChars).optional(),
  about: z.string().max(LIMITS.aboutChars).optional(),
});

export const tagSchema = z.strictObject({
  type: z.literal('tag'),
  target: entryRefSchema,
  tag: z
    .string()
    .min(1)
    .max(LIMITS.tagChars)
    .regex(/^[^\s]+$/u, { message: 'a tag has no whitespace' }),
});

export const commentSchema = z.strictObject({ type: z.literal('comment'), target: entryRefSchema, text });

export const followSchema = z.strictObject({ type: z.literal('follow'), identity: identitySchema });

export const blockSchema = z.strictObject({
  type: z.literal('block'),
  identity: identitySchema,
  reason: z.string().max(LIMITS.aboutChars).optional(),
});

/** A block nobody else can read: the envelope's plaintext is a block payload for the author's own readers. */
export const muteSchema = z.strictObject({ type: z.literal('mute'), envelope });

export const payloadSchema = z.discriminatedUnion('type', [
  synodPayloadSchema,
  identificationSchema,
  publicNoteSchema,
  privateNoteSchema,
  imageSchema,
  collectionSchema,
  tagSchema,
  commentSchema,
  followSchema,
  blockSchema,
  muteSchema,
]);

export type Payload = z.infer<typeof payloadSchema>;
export type PayloadType = Payload['type'];
export type SynodPayload = z.infer<typeof synodPayloadSchema>;
export type PayloadOf<T extends PayloadType> = Extract<Payload, { type: T }>;

export const PAYLOAD_TYPES: readonly PayloadType[] = [
  'synod',
  'identification',
  'public_note',
  'private_note',
  'image',
  'collection',
  'tag',
  'comment',
  'follow',
  'block',
  'mute',
];
