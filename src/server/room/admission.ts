/**
 * Which upgrades a shard takes (docs/room.md §1, §8): a WebSocket upgrade
 * whose URL names an identity homed here, while the shard holds fewer than
 * its cap of authenticated sockets, and fewer than its budgets per client
 * address (identities are free, addresses are not: `CF-Connecting-IP`, which
 * Cloudflare sets; without it, as in the workerd tests, no address budget
 * applies): all sockets held, closing ones included (they hold memory until
 * the client answers the close), and sockets not yet authenticated, a much
 * smaller budget. Only authenticated sockets the room has not closed count
 * toward the shard's cap, so sockets that never sign in, or never answer
 * the close, cannot fill it. Anything else is refused as a socket, not as
 * an HTTP error: the socket is accepted (outside any hibernation set, so it
 * counts nowhere), sent `error {code, message}` and closed with a code at
 * once, so a browser sees the code and reason where a refused upgrade is an
 * opaque failure.
 */
import { CLOSE, encodeWire, parseIdentity, type Identity, type WireErrorCode } from '../../protocol/index.ts';
import { clientAddress } from '../client-ip.ts';
import { errorResponse } from '../http.ts';
import type { Conn } from './conn.ts';
import type { Presence } from './presence.ts';
import type { RoomSettings } from './settings.ts';

export function refuseSocket(code: WireErrorCode, message: string, closeCode: number): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.send(encodeWire({ type: 'error', code, message }));
  server.close(closeCode, message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}

/** The tag a socket's client address gets (`ctx.acceptWebSocket(ws, tags)`), so the shard can count them, closing ones too. */
export const addressTag = (ip: string): string => `ip:${ip}`;

/** What a shard holds, as admission counts it. */
export interface Held {
  /** Authenticated sockets the room has not closed. */
  authed(): number;
  /** Sockets from `ip`: all held (closing included), and those not yet authenticated. */
  fromAddress(ip: string): { all: number; pending: number };
}

/** The identity an upgrade is for, or the answer that refuses it. */
export function admit(
  request: Request,
  isHomedHere: (identity: Identity) => boolean,
  held: Held,
  settings: RoomSettings,
): Identity | Response {
  if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
    return errorResponse(426, 'upgrade_required', 'expected a WebSocket upgrade');
  }
  const routed = parseIdentity(new URL(request.url).searchParams.get('identity') ?? '');
  if (!routed.ok || !isHomedHere(routed.value)) {
    return refuseSocket('wrong_shard', 'the room URL must name your identity: /room/<name>?identity=<identity>', CLOSE.wrongShard);
  }
  if (held.authed() >= settings.maxSockets) {
    return refuseSocket('unavailable', `this room holds at most ${settings.maxSockets} connections`, CLOSE.roomFull);
  }
  const ip = clientAddress(request.headers);
  if (ip) {
    const from = held.fromAddress(ip);
    if (from.all >= settings.socketsPerAddress) {
      return refuseSocket(
        'unavailable',
        `this room holds at most ${settings.socketsPerAddress} connections from one address`,
        CLOSE.roomFull,
      );
    }
    if (from.pending >= settings.pendingPerAddress) {
      const message = `this room holds at most ${settings.pendingPerAddress} connections from one address that have not signed in yet`;
      return refuseSocket('unavailable', message, CLOSE.roomFull);
    }
  }
  return routed.value;
}

/** What a shard holds: `conns` its sockets as the room knows them, `tagged` the runtime's count of sockets with a tag. */
export function heldAt(conns: Iterable<Conn>, presence: Presence, tagged: (tag: string) => number): Held {
  return {
    authed: () => presence.sockets,
    fromAddress(ip) {
      let pending = 0;
      for (const c of conns) if (c.att.ip === ip && (c.att.phase === 'hello' || c.att.phase === 'requested')) pending++;
      return { all: tagged(addressTag(ip)), pending };
    },
  };
}

/** Why a socket that just proved its identity may not join: the shard is full, or the identity holds its share. */
export function overCap(presence: Presence, settings: RoomSettings, identity: Identity): string | null {
  if (presence.sockets >= settings.maxSockets) return `this room holds at most ${settings.maxSockets} connections`;
  if (presence.socketsOf(identity).size >= settings.socketsPerIdentity) {
    return `this room holds at most ${settings.socketsPerIdentity} connections of one identity`;
  }
  return null;
}
