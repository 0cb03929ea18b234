/**
 * Peer signals (docs/protocol.md §13.6): what peers put in `message_to`
 * payloads for each other. The room forwards payloads without reading them;
 * the receiving peer checks them here. `ch` says whose they are: `relay`
 * carries replication frames between peers that cannot connect directly,
 * `rtc` negotiates a WebRTC data channel, `call` a voice or video call,
 * `pair` carries a pairing by code between two sockets of one rendezvous
 * identity (pairing.ts).
 */
import * as z from 'zod/mini';
import { fail, ok, type Result } from './errors.ts';
import { LIMITS } from './limits.ts';
import { base64urlSchema, chars, integer } from './schema.ts';

const reason = chars(LIMITS.reasonChars);
const sdp = chars(LIMITS.sdpChars);

/** RTCIceCandidateInit as browsers write it (RTCIceCandidate.toJSON()). */
export const iceCandidateSchema = z.strictObject({
  candidate: chars(LIMITS.candidateChars),
  sdpMid: z.optional(z.nullable(chars(64))),
  sdpMLineIndex: z.optional(z.nullable(integer(0, 65535))),
  usernameFragment: z.optional(z.nullable(chars(256))),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const relaySignalSchema = z.union([
  /** A wire frame (§13), as a JSON value so it is not escaped twice; the receiving link parses it like any frame. */
  z.strictObject({
    ch: z.literal('relay'),
    m: z.custom<Record<string, unknown>>(isObject, { message: 'a relayed frame is a JSON object' }),
  }),
  /** Several wire frames in one payload, handled in order (§13.6): fewer messages through the room. */
  z.strictObject({
    ch: z.literal('relay'),
    ms: z
      .array(z.custom<Record<string, unknown>>(isObject, { message: 'a relayed frame is a JSON object' }))
      .check(z.minLength(1), z.maxLength(64)),
  }),
  /** Wire frames as a JSON array, DEFLATE-compressed (raw, RFC 1951), as base64url (§13.6). */
  z.strictObject({ ch: z.literal('relay'), z: base64urlSchema(Math.floor((LIMITS.messageBytes * 3) / 4)) }),
  /** The sender closed the relayed link. */
  z.strictObject({ ch: z.literal('relay'), close: reason }),
]);

export const rtcSignalSchema = z.union([
  z.strictObject({ ch: z.literal('rtc'), sdp: z.strictObject({ type: z.enum(['offer', 'answer']), sdp }) }),
  z.strictObject({ ch: z.literal('rtc'), candidate: iceCandidateSchema }),
  /** The sender gave up on the negotiation. */
  z.strictObject({ ch: z.literal('rtc'), fail: reason }),
]);

const call = <O extends string, S extends z.core.$ZodLooseShape>(op: O, shape: S) =>
  z.strictObject({ ch: z.literal('call'), id: chars(64, 1), op: z.literal(op), ...shape });

export const callSignalSchema = z.discriminatedUnion('op', [
  call('offer', { sdp, video: z.boolean() }),
  call('answer', { sdp }),
  call('ice', { candidate: iceCandidateSchema }),
  call('decline', { reason: z.optional(reason) }),
  call('hangup', { reason: z.optional(reason) }),
  call('refused', { reason: z.optional(reason) }),
  call('busy', { reason: z.optional(reason) }),
]);

/** Sealed pairing messages (pairing.ts): a 24-byte nonce and the XChaCha20-Poly1305 box, both base64url. */
export const pairSignalSchema = z.strictObject({
  ch: z.literal('pair'),
  nonce: z.string().check(z.length(32), z.regex(/^[A-Za-z0-9_-]+$/)),
  box: z.string().check(z.minLength(22), z.maxLength(2048), z.regex(/^[A-Za-z0-9_-]+$/)),
});

export type IceCandidate = z.infer<typeof iceCandidateSchema>;
export type RelaySignal = z.infer<typeof relaySignalSchema>;
export type RtcSignal = z.infer<typeof rtcSignalSchema>;
export type CallSignal = z.infer<typeof callSignalSchema>;
export type PairSignal = z.infer<typeof pairSignalSchema>;
export type Signal = RelaySignal | RtcSignal | CallSignal | PairSignal;
export type SignalChannel = Signal['ch'];

const schemas = { relay: relaySignalSchema, rtc: rtcSignalSchema, call: callSignalSchema, pair: pairSignalSchema } as const;

/**
 * Checks a `message_from` payload. `unknown_type` when it is not a signal
 * (no known `ch`: some other use of message_to); `bad_schema` when it is one
 * but malformed. Receivers drop both without an answer.
 */
export function parseSignal(payload: unknown): Result<Signal> {
  const ch = isObject(payload) ? payload.ch : undefined;
  if (ch !== 'relay' && ch !== 'rtc' && ch !== 'call' && ch !== 'pair') return fail('unknown_type', 'not a peer signal: no known "ch"');
  const parsed = (schemas[ch] as z.ZodMiniType<Signal>).safeParse(payload);
  if (!parsed.success) return fail('bad_schema', `${ch} signal: ${z.prettifyError(parsed.error)}`);
  return ok(parsed.data);
}
