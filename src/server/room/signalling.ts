/**
 * Signalling (docs/protocol.md §13.2, §13.8): presence by interest and
 * message forwarding. The rules of who hears of whom are in watchers.ts;
 * this module is the wire side.
 *
 * - `watch {add, remove}`: the socket's watch list; `allow {add, remove}`
 *   and `visibility {anyone, strangers}`: whom the identity lets see it and
 *   message it. All three start empty (off) with the session.
 * - `online {identity, head}`: the client claims a newer presence head.
 * - The room sends `presence_list {peers, offline, heads}` with the changes to
 *   what a socket sees, coalesced (coalescer.ts).
 * - `message_to {to, payload}` reaches every socket of `to` (but the
 *   sender's own) as `message_from {from, payload}` when `to` takes messages
 *   from the sender; otherwise, as when `to` is not here, `not_present`, in
 *   the same words. It carries WebRTC offers, answers and ICE candidates,
 *   and small replication frames when two peers cannot connect directly
 *   (see relaying.ts).
 */
import type { Identity, WireOf } from '../../protocol/index.ts';
import { isCallOffer, pushForCall } from '../push/triggers.ts';
import type { Conn } from './conn.ts';
import { ROOM_LIMITS } from './limits.ts';
import type { RoomApi, RoomService } from './service.ts';

/** Tokens that `copies` extra copies of a payload cost the sender. */
export const copiesCost = (payload: unknown, copies: number): number =>
  Math.floor((JSON.stringify(payload).length * copies) / ROOM_LIMITS.bytesPerToken);

/** The one answer for a target that is absent and for one that does not take messages from the sender. */
export const notPresent = (to: Identity): string => `${to} is not in this room`;

async function onWatch(room: RoomApi, conn: Conn, msg: WireOf<'watch'>): Promise<void> {
  const result = await room.watchers.watch(conn, msg.add ?? [], msg.remove ?? []);
  if (result.ok) {
    if (msg.id) room.reply(conn, msg, { type: 'ok' });
  } else if (result.refused === 'quota') {
    room.fail(conn, 'quota', `a watch list holds at most ${ROOM_LIMITS.maxWatch} identities: nothing changed`, msg.id);
  } else {
    room.fail(conn, 'unavailable', "this room's watch index is full: nothing changed; try again later", msg.id);
  }
}

function onAllow(room: RoomApi, conn: Conn, msg: WireOf<'allow'>): void {
  if (!room.watchers.allow(conn.identity, msg.add ?? [], msg.remove ?? [])) {
    room.fail(conn, 'quota', `an allow-list holds at most ${ROOM_LIMITS.maxAllow} identities: nothing changed`, msg.id);
  } else if (msg.id) room.reply(conn, msg, { type: 'ok' });
}

export const signalling: RoomService = {
  name: 'signalling',
  offer: 'default',

  onJoin(room, conn, change) {
    room.watchers.arrived(conn, change);
  },

  onLeave(room, conn, last) {
    room.watchers.departed(conn, last);
  },

  handlers: {
    watch: onWatch,
    allow: onAllow,

    visibility(room, conn, msg) {
      room.watchers.visibility(conn.identity, { anyone: msg.anyone, strangers: msg.strangers });
      if (msg.id) room.reply(conn, msg, { type: 'ok' });
    },

    online(room, conn, msg) {
      if (msg.identity !== conn.identity) {
        room.fail(conn, 'forbidden', `online must name the session identity ${conn.identity}`, msg.id);
        return;
      }
      const changed = room.presence.claimHead(conn, msg.head);
      if (msg.id) room.reply(conn, msg, { type: 'ok' });
      if (changed) room.watchers.claimed(conn.identity);
    },

    message_to(room, conn, msg) {
      // Not awaited: the socket's next frames need not wait for another shard's answer. Messages to
      // one target keep their order (one path: here, or the one channel to its home shard).
      void room.watchers.relay(conn, msg.to, msg.payload).then((delivery) => {
        if (typeof delivery === 'number') {
          if (msg.id) room.reply(conn, msg, { type: 'ok' });
          // Bytes out count against the sender: the copies after the first (several sockets of the target).
          if (delivery > 1) conn.bucket.charge(Date.now(), copiesCost(msg.payload, delivery - 1));
          return;
        }
        room.fail(conn, 'not_present', notPresent(msg.to), msg.id);
        // Only where the message would have been delivered had the callee been here (docs/protocol.md §15.6):
        // a callee present but not taking messages from the caller is not woken either.
        if (delivery === 'absent' && isCallOffer(msg.payload))
          void pushForCall(room.bindings, conn.identity, msg.to, conn.att.ip ?? null).catch(() => undefined);
      });
    },
  },
};
