/**
 * Every frame a socket sends passes here: rate limit, then parseWire (size
 * before JSON, schema after), then one table (the registry) routes it to the
 * service that handles its type. In order:
 *
 * 1. an answer to a request the room made of this socket (`re`) goes to it;
 * 2. the session's own messages (service `offer: 'anyone'`) run for any socket;
 * 3. anything else needs an authenticated socket (`unauthenticated`);
 * 4. a type no service handles is `unavailable`, unless it is a late answer
 *    (it carries `re`): that needs no answer;
 * 5. a protocol service's messages need that service granted (`forbidden`),
 *    but for the few it leaves open to every socket (the dropbox's `drop`).
 */
import { CLOSE, LIMITS, parseWire, wireErrorOf, type ErrorCode, type WireMessage } from '../../protocol/index.ts';
import type { Conn } from './conn.ts';
import { ROOM_LIMITS } from './limits.ts';
import { granted, type RoomCore } from './service.ts';

/**
 * Tokens a frame costs beyond the one every frame pays, by the work it
 * causes (docs/room.md §8): a list is a row per item; a request answered
 * from the deployment's shared D1 (leased heads, blob sizes, drops, leases)
 * or that verifies a signature costs a token more.
 */
export function extraWeight(msg: WireMessage): number {
  const rows = (items: number) => Math.floor(items / ROOM_LIMITS.rowsPerToken);
  switch (msg.type) {
    case 'watch':
    case 'allow':
      return Math.floor(((msg.add?.length ?? 0) + (msg.remove?.length ?? 0)) / ROOM_LIMITS.itemsPerToken);
    case 'get_heads':
      return 1 + rows(msg.identities.length);
    case 'iwant':
      return 1 + rows(msg.hashes.length);
    case 'fetch_drops':
    case 'drop_ack':
      return 1 + rows(msg.hashes.length);
    case 'get_feed':
      // A limit is what may be asked, not what is read: the rows D1 read are charged after (chargeWork).
      return 1 + rows(Math.min(msg.limit, LIMITS.feedBatch));
    // A drop has budgets of its own (per sender, target and address: hosted/dropbox.ts).
    case 'announce':
    case 'call':
    case 'getblob':
      return 1;
    default:
      return 0;
  }
}

function rateLimited(core: RoomCore, conn: Conn, now: number, re?: string): undefined {
  const dropped = conn.dropped.hit(now);
  core.fail(conn, 'rate_limited', `over ${ROOM_LIMITS.ratePerSecond} frames/s (burst ${ROOM_LIMITS.rateBurst}): frame dropped`, re);
  if (dropped >= ROOM_LIMITS.maxDroppedFrames) core.close(conn, CLOSE.rateLimited, 'rate limited');
  return undefined;
}

export function handleFrame(core: RoomCore, conn: Conn, data: string | ArrayBuffer): Promise<void> | undefined {
  const now = Date.now();
  core.lag.sample(now);
  const lag = core.lag.lag(now);
  if (!conn.bucket.take(now, 1, lag)) return rateLimited(core, conn, now, cheapId(data));
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
  const extra = extraWeight(msg);
  if (extra > 0 && !conn.bucket.take(now, extra, lag)) return rateLimited(core, conn, now, msg.id);
  conn.queue = conn.queue
    .then(() => dispatch(core, conn, msg))
    .catch((err: unknown) => {
      console.error('room: handler failed', msg.type, err);
      core.fail(conn, 'internal', 'internal error', msg.id);
    });
  return conn.queue;
}

/**
 * The `id` of a frame dropped before parsing (docs/room.md §8: the rate limit
 * comes first, so a flood costs no parse): read from the frame's first bytes,
 * where a request puts it, so an honest client learns at once which request to
 * send again rather than waiting for its timeout. Not found: no `re`.
 */
function cheapId(frame: string | ArrayBuffer): string | undefined {
  if (typeof frame !== 'string') return undefined;
  return /"id":"([A-Za-z0-9_-]{1,64})"/.exec(frame.slice(0, 256))?.[1];
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
  if (conn.authed && msg.re !== undefined && core.requests.answer(conn, msg)) return;
  const route = core.registry.byType.get(msg.type);
  if (route?.service.offer === 'anyone') return route.handler(core, conn, msg);
  if (!conn.authed) {
    core.fail(conn, 'unauthenticated', `authenticate (session_request, session_auth) before sending ${msg.type}`, msg.id);
    return;
  }
  if (!route) {
    if (msg.re === undefined) core.fail(conn, 'unavailable', `this room does not answer ${msg.type}`, msg.id);
    return;
  }
  if (!route.open && !granted(conn, route.service)) {
    core.fail(conn, 'forbidden', `${msg.type} needs the ${route.service.name} service: request_service it first`, msg.id);
    return;
  }
  await route.handler(core, conn, msg);
}
