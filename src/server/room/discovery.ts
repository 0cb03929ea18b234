/**
 * Service discovery (docs/protocol.md §13.3) for every authenticated socket:
 * the client's `provides` is recorded; `request_service` grants a service the
 * room runs, asking an on-request service's own policy first (its `grant`:
 * the operator's, hosted/grants.ts), and a refusal says why. An `ok` the
 * client sends needs no answer.
 */
import { granted, type RoomCore, type RoomService } from './service.ts';

export const discovery: RoomService<RoomCore> = {
  name: 'discovery',
  offer: 'authed',
  handlers: {
    provides(_room, conn, msg) {
      conn.update({ provides: [...new Set(msg.services)] });
    },
    async request_service(room, conn, msg) {
      const service = room.registry.service(msg.service);
      if (!service || !room.registry.offers(msg.service)) {
        room.fail(conn, 'unavailable', `this room does not offer ${msg.service}`, msg.id);
        return;
      }
      const already = granted(conn, service);
      if (!already) {
        const refused = (await service.grant?.(room, conn, msg)) ?? null;
        if (conn.closed) return;
        if (refused) {
          room.fail(conn, refused.code, refused.message, msg.id);
          return;
        }
        conn.update({ granted: [...new Set([...(conn.att.granted ?? []), msg.service])] });
      }
      room.reply(conn, msg, { type: 'ok' });
      room.reply(conn, msg, { type: 'provides', services: conn.att.granted ?? [] });
      if (!already) service.onJoin?.(room, conn, { first: false, headChanged: false });
    },
    ok() {},
  },
};
