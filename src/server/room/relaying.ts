/**
 * Relaying: the room passes data between two peers that cannot connect
 * directly. In v1 that is `message_to` carrying replication frames (the same
 * message that carries WebRTC signalling, handled in signalling.ts), bounded
 * by the 48 KiB payload limit and the per-socket rate limit. The service is
 * listed so peers know the room will do it; it adds no message types.
 */
import type { RoomService } from './service.ts';

export const relaying: RoomService = {
  name: 'relaying',
  offer: 'default',
};
