/**
 * The idle rule (docs/room.md §8): a socket that sends nothing and answers
 * no ping for `idleMs` is closed (4011), so a half-open client does not stay
 * present, and `ok` to a `message_to` for it means someone is there. Half
 * way, the room pings a silent socket; any frame answers. Keepalive pings a
 * client sends are answered by the runtime without waking the object
 * (setWebSocketAutoResponse), so those count by the runtime's timestamp of
 * the last one. The time of a socket's last frame lives in its attachment,
 * written at most every idleMs/8, so the rule survives hibernation.
 */
import { CLOSE } from '../../protocol/index.ts';
import type { Conn } from './conn.ts';
import type { RoomApi } from './service.ts';

/** Records a frame from `conn`: coarse, so an active socket costs an attachment write only every idleMs/8. */
export function seen(conn: Conn, now: number, idleMs: number): void {
  if (now - (conn.att.seenAt ?? conn.att.connectedAt) >= idleMs / 8) conn.update({ seenAt: now });
}

/**
 * Pings silent sockets and closes idle ones; answers when to look again
 * (Infinity when no authenticated socket remains).
 */
export function sweepIdle(
  room: RoomApi,
  conns: readonly Conn[],
  now: number,
  idleMs: number,
  autoResponseAt: (conn: Conn) => number,
): number {
  let next = Infinity;
  for (const conn of conns) {
    if (!conn.authed) continue;
    const last = Math.max(conn.att.seenAt ?? 0, conn.att.authedAt ?? conn.att.connectedAt, autoResponseAt(conn));
    const silent = now - last;
    if (silent >= idleMs) {
      room.close(conn, CLOSE.idle, 'idle: no frame and no answer to a ping');
      continue;
    }
    if (silent >= idleMs / 2 && (conn.att.pingedAt ?? 0) < last) {
      conn.update({ pingedAt: now });
      room.send(conn, { type: 'ping' });
    }
    next = Math.min(next, last + (silent >= idleMs / 2 ? idleMs : idleMs / 2));
  }
  return next;
}
