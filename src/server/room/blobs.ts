/**
 * Blobs (docs/protocol.md §13.2): the room serves the head entries it holds
 * at any of its shards (entries are blobs too, named by their hash), then what hosted storage
 * holds: entries of live data leases and blobs uploaded over HTTP.
 *
 * - `iwant` → `ihave` with the sizes of the wanted hashes it holds;
 * - `getblob` → `blob` chunks of LIMITS.blobChunkBytes, in order, every one
 *   with `re` (an entry, at most 15 KiB, is one chunk);
 * - `get_feed` → `entries`: a feed is a chain of entry blobs, and get_feed
 *   fetches a run of it in one round trip; the room's feeds are leased ones.
 */
import { LIMITS, packFrame, toBase64url, utf8, type Hash, type WireOf } from '../../protocol/index.ts';
import type { Conn } from './conn.ts';
import type { RoomApi, RoomService } from './service.ts';
import { chargeWork } from './limits.ts';
import type { StoredBlob } from './storage.ts';

/** A head entry of this room's, or what hosted storage holds under `hash`. */
async function find(room: RoomApi, hash: Hash): Promise<StoredBlob | null> {
  const entry = (await room.heads.entries([hash])).get(hash);
  if (entry) return { size: entry.size, read: async () => [utf8(entry.text)] };
  return room.hosted.blob(hash);
}

/** Sends `pieces` as `blob` frames of exactly LIMITS.blobChunkBytes (the last one shorter), at least one frame. */
async function sendChunks(
  room: RoomApi,
  conn: Conn,
  msg: WireOf<'getblob'>,
  total: number,
  pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<void> {
  const chunk = new Uint8Array(LIMITS.blobChunkBytes);
  let fill = 0;
  let offset = 0;
  const flush = () => {
    room.reply(conn, msg, { type: 'blob', hash: msg.hash, offset, total, data: toBase64url(chunk.subarray(0, fill)) });
    offset += fill;
    fill = 0;
  };
  for await (const piece of pieces) {
    for (let from = 0; from < piece.byteLength;) {
      const n = Math.min(piece.byteLength - from, chunk.length - fill);
      chunk.set(piece.subarray(from, from + n), fill);
      fill += n;
      from += n;
      if (fill === chunk.length) flush();
    }
  }
  if (fill > 0 || offset === 0) flush();
}

export const blobs: RoomService = {
  name: 'blobs',
  offer: 'default',
  handlers: {
    async iwant(room, conn, msg) {
      const have: [Hash, number][] = [];
      const rest: Hash[] = [];
      const wanted = [...new Set(msg.hashes)];
      const entries = await room.heads.entries(wanted);
      for (const hash of wanted) {
        const entry = entries.get(hash);
        if (entry) have.push([hash, entry.size]);
        else rest.push(hash);
      }
      if (rest.length > 0) {
        const cost = { queries: 0, rows: 0 };
        const hosted = await room.hosted.sizes(rest, cost);
        chargeWork(conn, cost);
        for (const hash of rest) {
          const size = hosted.get(hash);
          if (size !== undefined) have.push([hash, size]);
        }
      }
      room.reply(conn, msg, { type: 'ihave', blobs: have });
    },

    async getblob(room, conn, msg) {
      const blob = await find(room, msg.hash);
      if (blob && blob.size > msg.maxsize) {
        room.fail(conn, 'too_big', `${msg.hash} is ${blob.size} bytes, more than maxsize ${msg.maxsize}`, msg.id);
        return;
      }
      if (blob?.refusal) {
        room.fail(conn, 'too_big', blob.refusal, msg.id);
        return;
      }
      const pieces = await blob?.read();
      if (!blob || !pieces) {
        room.fail(conn, 'not_found', `the room does not hold ${msg.hash}`, msg.id);
        return;
      }
      await sendChunks(room, conn, msg, blob.size, pieces);
    },

    async get_feed(room, conn, msg) {
      const cost = { queries: 0, rows: 0 };
      const run = await room.hosted.leasedFeed({ identity: msg.identity, from: msg.from, known: msg.known, limit: msg.limit }, cost);
      chargeWork(conn, cost);
      if (run.status === 'no_lease') {
        room.fail(conn, 'not_found', `this room holds no live lease of ${msg.identity}`, msg.id);
      } else if (run.status === 'not_held') {
        room.fail(conn, 'not_found', `${msg.from} is not in the leased feed of ${msg.identity}`, msg.id);
      } else {
        room.reply(conn, msg, { type: 'entries', identity: msg.identity, entries: packFrame(run.entries) });
      }
    },
  },
};
