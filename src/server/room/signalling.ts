/**
 * Signalling (docs/protocol.md §13.2): presence and message forwarding.
 *
 * Presence: when a socket authenticates, the newcomer gets `presence_list`
 * (every other identity present, with its head) and everyone else gets
 * `online`, unless its identity was already present with the same head (a
 * second tab); when an identity's last socket leaves, everyone gets
 * `offline`. A client may send `online` again to update its head.
 *
 * Messaging: `message_to {to, payload}` reaches every socket of `to` (but the
 * sender's own) as `message_from {from, payload}`; nothing is stored, so a
 * target not present is `not_present` at once. It carries WebRTC offers,
 * answers and ICE candidates, and small replication frames when two peers
 * cannot connect directly (see relaying.ts).
 */
import type { Hash, Identity } from '../../protocol/index.ts';
import type { Conn } from './conn.ts';
import { ROOM_LIMITS } from './limits.ts';
import type { RoomApi, RoomService } from './service.ts';

function announceOnline(room: RoomApi, conn: Conn): void {
  const identity = conn.identity;
  const head: Hash | null = room.presence.headOf(identity);
  room.broadcast({ type: 'online', identity, head }, (other) => other.att.identity === identity);
}

export const signalling: RoomService = {
  name: 'signalling',
  offer: 'default',

  onJoin(room, conn, { first, headChanged }) {
    const peers = room.presence.peers(conn.identity);
    // Chunked so a full room stays under the frame limit; a client adds up the chunks.
    for (let i = 0; i === 0 || i < peers.length; i += ROOM_LIMITS.listChunk) {
      room.send(conn, { type: 'presence_list', peers: peers.slice(i, i + ROOM_LIMITS.listChunk) });
    }
    if (first || headChanged) announceOnline(room, conn);
  },

  onLeave(room, conn, last) {
    if (!last) return;
    const identity: Identity = conn.identity;
    room.broadcast({ type: 'presence_list', peers: [], offline: [identity] });
  },

  handlers: {
    online(room, conn, msg) {
      if (msg.identity !== conn.identity) {
        room.fail(conn, 'forbidden', `online must name the session identity ${conn.identity}`, msg.id);
        return;
      }
      const changed = room.presence.claimHead(conn, msg.head);
      if (msg.id) room.reply(conn, msg, { type: 'ok' });
      if (changed) announceOnline(room, conn);
    },

    message_to(room, conn, msg) {
      let delivered = 0;
      const targets = room.presence.socketsOf(msg.to);
      if (targets.size > 0) {
        const frame = { type: 'message_from', from: conn.identity, payload: msg.payload } as const;
        for (const target of targets) {
          if (target === conn) continue;
          room.send(target, frame);
          delivered++;
        }
      }
      if (delivered === 0) room.fail(conn, 'not_present', `${msg.to} is not in this room`, msg.id);
      else if (msg.id) room.reply(conn, msg, { type: 'ok' });
    },
  },
};
