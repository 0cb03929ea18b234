/**
 * Wire messages: JSON objects with a `type`, one per transport message
 * (WebSocket frame or data-channel message). Every frame is untrusted: its
 * size is bounded before parsing and its shape checked by schema. A request
 * may carry `id`; its answer (or error) carries it back as `re`.
 */
import * as z from 'zod/mini';
import { utf8Length } from './bytes.ts';
import { WIRE_ERROR_CODES } from './codes.ts';
import { fromBase64url } from './encoding.ts';
import { fail, ok, type Result } from './errors.ts';
import { LIMITS } from './limits.ts';
import { base64urlSchema, chars, hashSchema, identitySchema, integer, list as bounded, signatureSchema, sizeSchema } from './schema.ts';

export const SERVICES = ['blobs', 'headtracking', 'signalling', 'relaying', 'dropbox', 'datalease', 'voice', 'video', 'pub'] as const;
export const serviceSchema = z.enum(SERVICES);
export type Service = z.infer<typeof serviceSchema>;

const id = z.optional(chars(64, 1));
const re = z.optional(chars(64, 1));
const list = <T extends z.ZodMiniType>(item: T) => bounded(item, LIMITS.listItems);
/**
 * An entry inside a message: any string (the frame bounds it); its size is
 * the first check of §6.3, so an entry over 15360 is `bad_entry` naming
 * `too_big`, as §6.3 says, not a schema failure.
 */
const entryText = z.string();
const challenge = z.string().check(
  z.length(43),
  z.refine((c: string) => fromBase64url(c, LIMITS.challengeBytes).ok, { message: 'a challenge is 32 bytes of canonical base64url' }),
);
const headPair = z.tuple([identitySchema, hashSchema]);
/** A change log's name (§13.7): 1–64 base64url characters. */
const epoch = z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9_-]+$/, { message: 'an epoch is base64url' }));
const more = z.optional(z.literal(true));
const peer = z.strictObject({ identity: identitySchema, head: z.nullable(hashSchema) });
const identities = list(identitySchema);

const m = <T extends string, S extends z.core.$ZodLooseShape>(type: T, shape: S) =>
  z.strictObject({ type: z.literal(type), id, re, ...shape });

/** A change to a list the room keeps for the session (watch list, allow-list): at most listItems names in all, none in both. */
const delta = <T extends string>(type: T) =>
  m(type, { add: z.optional(identities), remove: z.optional(identities) }).check(
    z.refine((d) => (d.add?.length ?? 0) + (d.remove?.length ?? 0) <= LIMITS.listItems, {
      message: `add and remove name at most ${LIMITS.listItems} identities together`,
    }),
    z.refine(
      (d) => {
        const removed = new Set(d.remove);
        return !d.add?.some((i) => removed.has(i));
      },
      { message: 'an identity is in both add and remove' },
    ),
  );

export const wireSchemas = {
  // Session (design: Startup)
  session_request: m('session_request', { identity: identitySchema, head: z.nullable(hashSchema), challenge }),
  session_auth: m('session_auth', { signature: signatureSchema }),
  // Service discovery
  provides: m('provides', { services: bounded(serviceSchema, SERVICES.length) }),
  request_service: m('request_service', {
    service: serviceSchema,
    /** The text of the synod entry that added the session's identity (`add_device`): proof of membership for a server that grants to members. */
    member: z.optional(entryText),
  }),
  // Head tracking (`head` travels between peers; a room reports heads inside presence_list)
  get_heads: m('get_heads', { identities: list(identitySchema) }),
  last_known_heads: m('last_known_heads', { heads: list(headPair) }),
  announce: m('announce', { entry: entryText }),
  head: m('head', { identity: identitySchema, head: hashSchema }),
  // Per-peer notes (§13.7): reconnecting costs what changed, not what is followed
  interests: m('interests', {
    base: z.nullable(hashSchema),
    digest: hashSchema,
    add: list(identitySchema),
    remove: list(identitySchema),
  }),
  get_changes: m('get_changes', { digest: hashSchema, epoch: z.nullable(epoch), seq: sizeSchema }),
  changes: m('changes', { epoch, seq: sizeSchema, heads: list(headPair), entries: bounded(entryText, LIMITS.feedBatch), more }),
  // Presence by interest (§13.8)
  online: m('online', { identity: identitySchema, head: z.nullable(hashSchema) }),
  watch: delta('watch'),
  allow: delta('allow'),
  visibility: m('visibility', { anyone: z.boolean(), strangers: z.boolean() }),
  presence_list: m('presence_list', { peers: list(peer), offline: z.optional(identities), heads: z.optional(list(headPair)) }).check(
    z.refine((p) => p.peers.length + (p.offline?.length ?? 0) + (p.heads?.length ?? 0) <= LIMITS.listItems, {
      message: `peers, offline and heads hold at most ${LIMITS.listItems} items together`,
    }),
    z.refine(
      (p) => {
        const gone = new Set(p.offline);
        return !p.peers.some((x) => gone.has(x.identity));
      },
      { message: 'an identity is in both peers and offline' },
    ),
  ),
  // Messaging
  message_to: m('message_to', {
    to: identitySchema,
    payload: z.unknown().check(
      z.refine((p) => p !== undefined && utf8Length(JSON.stringify(p)) <= LIMITS.messageBytes, {
        message: `a payload is JSON of at most ${LIMITS.messageBytes} bytes`,
      }),
    ),
  }),
  message_from: m('message_from', { from: identitySchema, payload: z.unknown() }),
  // Blobs
  iwant: m('iwant', { hashes: list(hashSchema) }),
  ihave: m('ihave', { blobs: list(z.tuple([hashSchema, sizeSchema])) }),
  getblob: m('getblob', { hash: hashSchema, maxsize: sizeSchema, binary: z.optional(z.literal(true)) }),
  blob: m('blob', {
    hash: hashSchema,
    offset: sizeSchema,
    total: sizeSchema,
    data: base64urlSchema(LIMITS.blobChunkBytes),
  }),
  // Feeds: batched parent walks, so a long feed is not one round trip per entry
  get_feed: m('get_feed', {
    identity: identitySchema,
    from: hashSchema,
    known: z.nullable(hashSchema),
    limit: integer(1, LIMITS.feedLimit),
  }),
  entries: m('entries', { identity: identitySchema, entries: bounded(entryText, LIMITS.feedBatch), more }),
  // Dropbox
  drop: m('drop', { target: identitySchema, sender: identitySchema, entry: entryText }),
  drops: m('drops', {
    drops: bounded(
      z.strictObject({ hash: hashSchema, target: identitySchema, sender: identitySchema, size: sizeSchema, expires: sizeSchema }),
      LIMITS.dropNotices,
    ),
  }),
  fetch_drops: m('fetch_drops', { hashes: bounded(hashSchema, LIMITS.feedBatch) }),
  drop_delivery: m('drop_delivery', {
    drops: bounded(z.strictObject({ hash: hashSchema, target: identitySchema, entry: entryText }), LIMITS.feedBatch),
  }),
  drop_ack: m('drop_ack', { hashes: list(hashSchema) }),
  drop_clear: m('drop_clear', { target: identitySchema, through: sizeSchema }),
  // Data leasing (design: call(service, datalease, head))
  call: m('call', {
    service: z.literal('datalease'),
    identity: identitySchema,
    head: hashSchema,
    seconds: integer(60, 366 * 24 * 3600),
  }),
  lease: m('lease', { identity: identitySchema, head: hashSchema, expires: sizeSchema }),
  // Generic answers
  ok: m('ok', {}),
  error: m('error', { code: z.enum(WIRE_ERROR_CODES), message: chars(1000) }),
  ping: m('ping', {}),
  pong: m('pong', {}),
} as const;

export type WireType = keyof typeof wireSchemas;
export type WireMessage = { [K in WireType]: z.infer<(typeof wireSchemas)[K]> }[WireType];
export type WireOf<K extends WireType> = z.infer<(typeof wireSchemas)[K]>;
export const WIRE_TYPES = Object.keys(wireSchemas) as WireType[];

const isWireType = (t: unknown): t is WireType => typeof t === 'string' && Object.hasOwn(wireSchemas, t);

/** Parse one untrusted frame. Size first, then JSON, then type, then schema. */
export function parseWire(frame: unknown): Result<WireMessage> {
  if (typeof frame !== 'string') return fail('bad_encoding', 'frames are UTF-8 JSON text');
  if (frame.length > LIMITS.frameBytes || utf8Length(frame) > LIMITS.frameBytes) {
    return fail('too_big', `frame exceeds ${LIMITS.frameBytes} bytes`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(frame);
  } catch {
    return fail('bad_json', 'frame is not JSON');
  }
  if (jsonDepth(frame) > LIMITS.jsonDepth) return fail('bad_schema', `a frame nests at most ${LIMITS.jsonDepth} arrays and objects`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('bad_schema', 'a frame is a JSON object');
  const type = (raw as { type?: unknown }).type;
  if (!isWireType(type)) return fail('unknown_type', `unknown message type ${JSON.stringify(type)?.slice(0, 40)}`);
  const parsed = (wireSchemas[type] as z.ZodMiniType<WireMessage>).safeParse(raw);
  if (!parsed.success) return fail('bad_schema', `${type}: ${z.prettifyError(parsed.error)}`);
  return ok(parsed.data);
}

/**
 * How deeply arrays and objects nest in JSON text (brackets outside strings),
 * counted without parsing: a loop, so depth itself costs no stack.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Serialize an outgoing message, refusing one that a peer would reject as too big. */
export function encodeWire(message: WireMessage): string {
  const text = JSON.stringify(message);
  if (utf8Length(text) > LIMITS.frameBytes) throw new RangeError(`${message.type} frame exceeds ${LIMITS.frameBytes} bytes`);
  return text;
}
