/**
 * The codes two implementations must agree on (docs/protocol.md §13.4): the
 * `code` of an `error` message, the WebSocket close codes a room sends, and
 * the codes of HTTP error bodies (docs/hosted.md, §15). Each has its meaning
 * here, once; the spec's tables quote them and a test holds them equal.
 */
import type { ErrorCode } from './errors.ts';

/** `error.code` on the wire (§13.4). */
export const WIRE_ERROR_CODES = [
  'bad_frame',
  'too_big',
  'bad_json',
  'unknown_type',
  'bad_schema',
  'unauthenticated',
  'auth_failed',
  'auth_timeout',
  'wrong_shard',
  'rate_limited',
  'unavailable',
  'forbidden',
  'not_present',
  'bad_entry',
  'rollback',
  'not_found',
  'quota',
  'internal',
] as const;

export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/** What each wire code means, as §13.4 says. Nothing reads it at run time, so bundles leave it out. */
export const WIRE_ERRORS: Readonly<Record<WireErrorCode, string>> = {
  // Frame checks (§13.1)
  bad_frame: 'a binary frame: frames are UTF-8 JSON text',
  too_big: "a frame over 65536 bytes (then closed, 1009), a payload over its limit, or a blob over getblob's maxsize",
  bad_json: 'the frame is not JSON',
  unknown_type: 'no such message type',
  bad_schema: 'a known type with missing, mistyped, out-of-bounds or unknown members',
  // Session (§12)
  unauthenticated: 'anything but session_request, session_auth, ping, pong or error before authentication',
  auth_failed: 'bad signature, replayed challenge, or a second session (closed, 4001)',
  auth_timeout: 'not authenticated in time (closed, 4002)',
  wrong_shard: "the room URL names no identity, or not the session's: the socket is at the wrong shard (closed, 4010)",
  rate_limited: 'over the rate: the frame was dropped (many: closed, 4008)',
  // Services (§13.2)
  unavailable:
    "a service or message not provided here, or temporarily unable; the room is full (closed, 4029); the room's watch index is full",
  forbidden: "not allowed for this session: a service not granted, or another identity's head",
  not_present: 'message_to an identity with no socket in the room, or one that does not take messages from the sender: the same answer',
  bad_entry: 'an entry failed validation (§6.3); the message names the §1.3 code',
  rollback: 'an announced head the known head outranks',
  not_found: 'a blob, entry, feed or drop not held',
  quota: 'a storage quota is exhausted (dropbox, data lease), or a watch list or allow-list would pass its length limit',
  internal: 'a bug on the answering side',
};

/** The wire code for a failed parseWire (§13.1 rule 1: a non-text frame is `bad_frame`). */
export function wireErrorOf(code: ErrorCode): WireErrorCode {
  switch (code) {
    case 'bad_encoding':
      return 'bad_frame';
    case 'too_big':
    case 'bad_json':
    case 'unknown_type':
      return code;
    default:
      return 'bad_schema';
  }
}

/** WebSocket close codes a room sends. */
export const CLOSE = {
  /** Policy violation: too many protocol errors. */
  policy: 1008,
  /** A frame over the frame limit. */
  tooBig: 1009,
  /** Bad signature, replayed challenge, second session_request. */
  authFailed: 4001,
  /** Not authenticated in time. */
  authTimeout: 4002,
  /** Too many frames dropped by the rate limit. */
  rateLimited: 4008,
  /** The socket sent nothing and answered no ping for the room's idle time. */
  idle: 4011,
  /** The room URL's `identity` parameter is missing, not an identity, or not the session identity. */
  wrongShard: 4010,
  /** The room holds as many sockets as it may. */
  roomFull: 4029,
} as const;

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** Closes after which dialling again the same way cannot help: a client stops reconnecting (§13.4). */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set<CloseCode>([CLOSE.authFailed, CLOSE.policy, CLOSE.wrongShard]);

/** `error.code` of an HTTP error body `{"error": {"code", "message"}}`. */
export const HTTP_ERRORS = {
  // Routing
  bad_room_name: 'a room name is 1-64 of A-Z a-z 0-9 _ -',
  upgrade_required: 'a room answers WebSocket upgrades only',
  not_found: 'no such endpoint, or no such blob',
  method_not_allowed: 'the endpoint does not answer this method',
  internal: 'a bug on the server',
  // Signed requests (§15.3)
  unsigned: 'an Effigy-* header is missing',
  bad_identity: 'Effigy-Identity is not a usable identity',
  bad_time: 'Effigy-Time is not plain decimal',
  stale_request: 'Effigy-Time is more than 5 minutes behind or 1 minute ahead of the server clock',
  bad_signature: 'the signature does not verify over the statement',
  replayed: 'this signed request was already accepted once: sign each request afresh',
  // Budgets (docs/hosted.md, Running a public endpoint)
  rate_limited: 'too many requests of this kind from this identity or address for now; Retry-After says when to try again',
  // Blobs (docs/hosted.md §2)
  bad_hash: 'the path does not name a hash',
  length_required: 'an upload needs a Content-Length',
  bad_length: 'Content-Length is not plain decimal',
  too_big: "over the server's blob limit",
  quota: "over a storage budget: the uploader's, its address's, or the server's",
  length_mismatch: 'the body is not Content-Length bytes',
  hash_mismatch: 'the body does not hash to its name',
  bad_body: 'the body could not be read or stored',
  body_timeout: 'the body stopped arriving, or arrived too slowly',
  bad_range: 'not one satisfiable bytes= range',
  // TURN (§15)
  turn_unconfigured: 'the deployment has no TURN server',
  // Web Push (§15.6)
  push_unconfigured: 'the deployment sends no pushes (no VAPID keys)',
  bad_subscription: 'the body is not a push subscription (JSON, strict, with a usable P-256 key)',
  forbidden: 'not allowed: an endpoint outside the push services this server sends to, or a membership that does not verify',
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The body of every HTTP error answer. */
export interface HttpErrorBody {
  error: { code: HttpErrorCode; message: string };
}
