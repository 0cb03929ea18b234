/**
 * Every frame a socket sends passes here: rate limit, then parseWire (size
 * before JSON, schema after), then the session gate, then the core's own
 * messages, then the service that registered the type.
 */
import { CLOSE, LIMITS, parseWire, wireErrorOf, type ErrorCode, type KeyPair, type WireMessage } from '../../protocol/index.ts';
import type { Conn } from './conn.ts';
import { ROOM_LIMITS } from './limits.ts';
import type { Registry, RoomApi } from './service.ts';
import { onSessionAuth, onSessionRequest } from './session.ts';

/** What the dispatcher needs beyond what services see. */
export interface RoomCore extends RoomApi {
  readonly keys: KeyPair;
  readonly registry: Registry;
  /** The socket proved its identity: make it present. */
  join(conn: Conn): void;
}

export function handleFrame(core: RoomCore, conn: Conn, data: string | ArrayBuffer): Promise<void> | undefined {
  const now = Date.now();
  if (!conn.bucket.take(now)) {
    const dropped = conn.dropped.hit(now);
    core.fail(conn, 'rate_limited', `over ${ROOM_LIMITS.ratePerSecond} frames/s (burst ${ROOM_LIMITS.rateBurst}): frame dropped`);
    if (dropped >= ROOM_LIMITS.maxDroppedFrames) core.close(conn, CLOSE.rateLimited, 'rate limited');
    return;
  }
  if (typeof data !== 'string' && data.byteLength > LIMITS.frameBytes) {
    core.fail(conn, 'too_big', `frame exceeds ${LIMITS.frameBytes} bytes`);
    core.close(conn, CLOSE.tooBig, 'frame too big');
    return;
  }
  const parsed = parseWire(data);
  if (!parsed.ok) {
    core.fail(conn, wireErrorOf(parsed.error.code), parsed.error.message, requestId(parsed.error.code, data));
    if (parsed.error.code === 'too_big') core.close(conn, CLOSE.tooBig, 'frame too big');
    return;
  }
  const msg = parsed.value;
  conn.queue = conn.queue
    .then(() => dispatch(core, conn, msg))
    .catch((err: unknown) => {
      console.error('room: handler failed', msg.type, err);
      core.fail(conn, 'internal', 'internal error', msg.id);
    });
  return conn.queue;
}

/** The `id` of a frame that parsed as JSON but failed its schema, so the error can answer it with `re`. */
function requestId(code: ErrorCode, frame: string | ArrayBuffer): string | undefined {
  if ((code !== 'bad_schema' && code !== 'unknown_type') || typeof frame !== 'string') return undefined;
  try {
    const id = (JSON.parse(frame) as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id.length >= 1 && id.length <= 64 ? id : undefined;
  } catch {
    return undefined;
  }
}

async function dispatch(core: RoomCore, conn: Conn, msg: WireMessage): Promise<void> {
  if (conn.closed) return;
  switch (msg.type) {
    case 'ping':
      core.send(conn, { type: 'pong', ...(msg.id ? { re: msg.id } : {}) });
      return;
    case 'session_request':
      return onSessionRequest(core, core.keys, conn, msg, Date.now());
    case 'session_auth':
      if (await onSessionAuth(core, conn, msg)) core.join(conn);
      return;
    // An error needs no answer (and before authentication is the only other thing allowed).
    case 'error':
      return;
  }
  if (!conn.authed) {
    core.fail(conn, 'unauthenticated', `authenticate (session_request, session_auth) before sending ${msg.type}`, msg.id);
    return;
  }
  switch (msg.type) {
    // Answers need no answer.
    case 'ok':
    case 'pong':
      return;
    case 'provides':
      conn.update({ provides: [...new Set(msg.services)] });
      return;
    case 'request_service': {
      if (!core.registry.offers(msg.service)) {
        core.fail(conn, 'unavailable', `this room does not offer ${msg.service}`, msg.id);
        return;
      }
      const granted = [...new Set([...(conn.att.granted ?? []), msg.service])];
      conn.update({ granted });
      const re = msg.id ? { re: msg.id } : {};
      core.send(conn, { type: 'ok', ...re });
      core.send(conn, { type: 'provides', ...re, services: granted });
      return;
    }
  }
  const route = core.registry.byType.get(msg.type);
  if (!route) {
    core.fail(conn, 'unavailable', `this room does not answer ${msg.type}`, msg.id);
    return;
  }
  if (!conn.att.granted?.includes(route.service.name)) {
    core.fail(conn, 'forbidden', `${msg.type} needs the ${route.service.name} service: request_service it first`, msg.id);
    return;
  }
  await route.handler(core, conn, msg);
}
