/**
 * Service discovery (docs/protocol.md §13.3) for every authenticated socket:
 * the client's `provides` is recorded, `request_service` grants a service
 * the room offers. Answers the client sends (`ok`, `pong`) need none.
 */
import type { RoomCore, RoomService } from './service.ts';

export const discovery: RoomService<RoomCore> = {
  name: 'discovery',
  offer: 'authed',
  handlers: {
    provides(_room, conn, msg) {
      conn.update({ provides: [...new Set(msg.services)] });
    },
    request_service(room, conn, msg) {
      if (!room.registry.offers(msg.service)) {
        room.fail(conn, 'unavailable', `this room does not offer ${msg.service}`, msg.id);
        return;
      }
      const granted = [...new Set([...(conn.att.granted ?? []), msg.service])];
      conn.update({ granted });
      room.reply(conn, msg, { type: 'ok' });
      room.reply(conn, msg, { type: 'provides', services: granted });
    },
    ok() {},
    pong() {},
  },
};
