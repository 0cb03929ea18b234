/**
 * Error codes the room sends in `error {code, message, re?}` — the codes of
 * docs/protocol.md §13.4. A "strike" counts toward the abuse limit
 * (ROOM_LIMITS.maxErrors in a window, then close 1008); the others describe
 * an ordinary race or refusal.
 */
export const ROOM_ERRORS = {
  // Frame checks
  bad_frame: { strike: true, what: 'a binary frame: frames are UTF-8 JSON text' },
  too_big: { strike: false, what: "a frame over 65536 bytes (then closed, 1009), or a blob over getblob's maxsize" },
  bad_json: { strike: true, what: 'the frame is not JSON' },
  unknown_type: { strike: true, what: 'no such message type' },
  bad_schema: { strike: true, what: 'a known type with missing, mistyped, out-of-bounds or unknown fields' },
  // Session
  unauthenticated: { strike: true, what: 'anything but session_request, session_auth, ping or error before authentication' },
  auth_failed: { strike: false, what: 'bad signature, replayed challenge, or a second session (closed, 4001)' },
  auth_timeout: { strike: false, what: 'not authenticated in time (closed, 4002)' },
  rate_limited: { strike: false, what: 'over the per-socket rate: the frame was dropped (many: closed, 4008)' },
  // Services
  unavailable: { strike: false, what: 'a service or message the room does not offer; the room is full (closed, 4029)' },
  forbidden: { strike: true, what: "not allowed for this session: a service not granted, or another identity's head" },
  not_present: { strike: false, what: 'message_to an identity with no socket in the room' },
  bad_entry: { strike: true, what: 'announce of an entry that fails validation; the message names the reason' },
  rollback: { strike: false, what: 'announce of an entry the stored head outranks' },
  not_found: { strike: false, what: 'getblob of a blob the room does not hold' },
  quota: { strike: false, what: 'a storage quota is exhausted (dropbox, data lease)' },
  internal: { strike: false, what: 'a bug in the room' },
} as const;

export type RoomErrorCode = keyof typeof ROOM_ERRORS;
