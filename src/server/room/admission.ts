/**
 * Which upgrades a shard takes (docs/room.md §1, §8): a WebSocket upgrade
 * whose URL names an identity homed here, while the shard holds fewer than
 * its cap of sockets, and fewer than its cap per client address (identities
 * are free, addresses are not: `CF-Connecting-IP`, which Cloudflare sets;
 * without it, as in local tests, no address budget applies). Anything else is refused as a socket, not as an HTTP
 * error: the socket is accepted (outside any hibernation set, so it counts
 * nowhere), sent `error {code, message}` and closed with a code at once, so
 * a browser sees the code and reason where a refused upgrade is an opaque
 * failure.
 */
import { CLOSE, encodeWire, parseIdentity, type Identity, type WireErrorCode } from '../../protocol/index.ts';
import { clientAddress } from '../client-ip.ts';
import { errorResponse } from '../http.ts';
import { ROOM_LIMITS } from './limits.ts';

export function refuseSocket(code: WireErrorCode, message: string, closeCode: number): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.send(encodeWire({ type: 'error', code, message }));
  server.close(closeCode, message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}

/** The tag a socket's client address gets (`ctx.acceptWebSocket(ws, tags)`), so the shard can count them; an IPv6 address counts by its /64 (client-ip.ts). */
export const addressTag = (request: Request): string | null => {
  const ip = clientAddress(request.headers);
  return ip ? `ip:${ip}` : null;
};

/** The identity an upgrade is for, or the answer that refuses it. `held` counts sockets held: all, or with a tag. */
export function admit(request: Request, isHomedHere: (identity: Identity) => boolean, held: (tag?: string) => number): Identity | Response {
  if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
    return errorResponse(426, 'upgrade_required', 'expected a WebSocket upgrade');
  }
  const routed = parseIdentity(new URL(request.url).searchParams.get('identity') ?? '');
  if (!routed.ok || !isHomedHere(routed.value)) {
    return refuseSocket('wrong_shard', 'the room URL must name your identity: /room/<name>?identity=<identity>', CLOSE.wrongShard);
  }
  if (held() >= ROOM_LIMITS.maxConnections) {
    return refuseSocket('unavailable', `this room holds at most ${ROOM_LIMITS.maxConnections} connections`, CLOSE.roomFull);
  }
  const tag = addressTag(request);
  if (tag && held(tag) >= ROOM_LIMITS.maxConnectionsPerAddress) {
    const message = `this room holds at most ${ROOM_LIMITS.maxConnectionsPerAddress} connections from one address`;
    return refuseSocket('unavailable', message, CLOSE.roomFull);
  }
  return routed.value;
}
