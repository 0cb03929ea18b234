/**
 * The payload types: the design's eleven, a rewrite's `rebase` (§8.4), and
 * a private feed's `sealed` and `feed_key` (§10.6). A payload is a JSON
 * object whose `type` names it; private_note, mute and feed_key carry an
 * encrypted envelope, sealed an encrypted payload.
 */
import * as z from 'zod/mini';
import { LIMITS } from './limits.ts';
import {
  base64urlSchema,
  blobRefSchema,
  chars,
  endpointSchema,
  entryRefSchema,
  hashSchema,
  identitySchema,
  integer,
  list,
  signatureSchema,
} from './schema.ts';

const text = chars(LIMITS.textChars, 1);
const envelope = base64urlSchema(LIMITS.entryBytes);

/** Synod operations live in the synod's own feed, signed by the synod key. */
const synodAddDevice = z.strictObject({
  type: z.literal('synod'),
  op: z.literal('add_device'),
  device: identitySchema,
  /** The device's signature over the membership statement (see synod.ts). */
  proof: signatureSchema,
  name: z.optional(chars(LIMITS.nameChars)),
});
const synodRevokeDevice = z.strictObject({
  type: z.literal('synod'),
  op: z.literal('revoke_device'),
  device: identitySchema,
  /** The device's last valid comparable: its entries above it are invalid. */
  cut: integer(0),
});
const synodServers = z.strictObject({
  type: z.literal('synod'),
  op: z.literal('servers'),
  signalling: list(endpointSchema, LIMITS.servers),
  dropboxes: list(endpointSchema, LIMITS.servers),
});
const synodFinal = z.strictObject({ type: z.literal('synod'), op: z.literal('final') });
export const synodPayloadSchema = z.discriminatedUnion('op', [synodAddDevice, synodRevokeDevice, synodServers, synodFinal]);

export const identificationSchema = z.strictObject({
  type: z.literal('identification'),
  name: z.optional(chars(LIMITS.nameChars)),
  about: z.optional(chars(LIMITS.aboutChars)),
  avatar: z.optional(blobRefSchema),
});

export const publicNoteSchema = z.strictObject({
  type: z.literal('public_note'),
  text,
  mentions: z.optional(list(identitySchema, 32)),
});

/** Encrypted to several readers; see envelope.ts. */
export const privateNoteSchema = z.strictObject({ type: z.literal('private_note'), envelope });

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif'] as const;
export const imageSchema = z.strictObject({
  type: z.literal('image'),
  blob: blobRefSchema,
  mime: z.enum(IMAGE_TYPES),
  width: z.optional(integer(1, 65_535)),
  height: z.optional(integer(1, 65_535)),
  alt: z.optional(chars(LIMITS.aboutChars)),
  caption: z.optional(chars(LIMITS.textChars)),
});

/** A directory blob (directory.ts) is the Merkle root of the collection. */
export const collectionSchema = z.strictObject({
  type: z.literal('collection'),
  root: blobRefSchema,
  name: z.optional(chars(LIMITS.nameChars)),
  about: z.optional(chars(LIMITS.aboutChars)),
});

export const tagSchema = z.strictObject({
  type: z.literal('tag'),
  target: entryRefSchema,
  tag: chars(LIMITS.tagChars, 1).check(z.regex(/^[^\s]+$/u, { message: 'a tag has no whitespace' })),
});

export const commentSchema = z.strictObject({ type: z.literal('comment'), target: entryRefSchema, text });

export const followSchema = z.strictObject({ type: z.literal('follow'), identity: identitySchema });

export const blockSchema = z.strictObject({
  type: z.literal('block'),
  identity: identitySchema,
  reason: z.optional(chars(LIMITS.aboutChars)),
});

/** A block nobody else can read: the envelope's plaintext is a block payload for the author's own readers. */
export const muteSchema = z.strictObject({ type: z.literal('mute'), envelope });

/** At most this many renamed and removed entries in one rebase entry: a full one stays under entryBytes. */
export const REBASE_ITEMS = 128;

/**
 * The last entry (or entries) of a rewrite (§8.4): which head it replaces,
 * the old name → new name of every re-signed entry, and the entries removed,
 * so a reader can find what comments point at and see that the past changed.
 */
export const rebaseSchema = z
  .strictObject({
    type: z.literal('rebase'),
    from: hashSchema,
    map: list(z.tuple([hashSchema, hashSchema]), REBASE_ITEMS),
    removed: list(hashSchema, REBASE_ITEMS),
  })
  .check(
    z.refine((r) => r.map.length + r.removed.length <= REBASE_ITEMS, {
      message: `a rebase entry names at most ${REBASE_ITEMS} renamed and removed entries`,
    }),
  );

/** 16 bytes of a feed-read key's hash, base64url: which key opens a sealed payload (private-feed.ts). */
export const feedKeyIdSchema = z.string().check(z.length(22), z.regex(/^[A-Za-z0-9_-]+$/, { message: 'not base64url' }));

/** A private feed's entry: another payload encrypted with a feed-read key (§10.6). */
export const sealedSchema = z.strictObject({
  type: z.literal('sealed'),
  key: feedKeyIdSchema,
  box: base64urlSchema(LIMITS.entryBytes),
});

/** Feed-read keys for the readers of the envelope (approved followers, the author's own devices). */
export const feedKeySchema = z.strictObject({ type: z.literal('feed_key'), envelope });

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
  rebaseSchema,
  sealedSchema,
  feedKeySchema,
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
  'rebase',
  'sealed',
  'feed_key',
];
