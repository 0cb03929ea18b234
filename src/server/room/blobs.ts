/**
 * Blobs: the room serves the head entries it holds (entries are blobs too,
 * named by their hash). `iwant` answers `ihave` with the ones it has;
 * `getblob` answers the whole entry in one `blob` frame (entries are at most
 * 15 KiB, under one chunk). Hosted storage answers too (hosted/serve.ts):
 * entries of live data leases (D1) and blobs uploaded over HTTP (R2), the
 * latter in `blob` chunks of LIMITS.blobChunkBytes, every one with `re`.
 */
import { toBase64url, utf8, type Hash } from '../../protocol/index.ts';
import { hostedSizes, serveHostedBlob, serveLeasedFeed } from '../hosted/serve.ts';
import { headStore } from './heads.ts';
import type { RoomService } from './service.ts';

export const blobs: RoomService = {
  name: 'blobs',
  offer: 'default',
  handlers: {
    async iwant(room, conn, msg) {
      const have: [Hash, number][] = [];
      const rest: Hash[] = [];
      for (const hash of new Set(msg.hashes)) {
        const row = headStore.byHash(room.sql, hash);
        if (row) have.push([hash, row.size]);
        else rest.push(hash);
      }
      if (rest.length > 0) {
        const hosted = await hostedSizes(room.bindings.DB, rest);
        for (const hash of rest) {
          const size = hosted.get(hash);
          if (size !== undefined) have.push([hash, size]);
        }
      }
      room.send(conn, { type: 'ihave', ...(msg.id ? { re: msg.id } : {}), blobs: have });
    },

    async getblob(room, conn, msg) {
      const row = headStore.byHash(room.sql, msg.hash);
      if (!row) {
        if (await serveHostedBlob(room, conn, msg)) return;
        room.fail(conn, 'not_found', `the room does not hold ${msg.hash}`, msg.id);
        return;
      }
      if (row.size > msg.maxsize) {
        room.fail(conn, 'too_big', `${msg.hash} is ${row.size} bytes, more than maxsize ${msg.maxsize}`, msg.id);
        return;
      }
      const data = toBase64url(utf8(row.entry));
      room.send(conn, { type: 'blob', ...(msg.id ? { re: msg.id } : {}), hash: msg.hash, offset: 0, total: row.size, data });
    },

    // A feed is a chain of entry blobs; get_feed fetches a run of it in one round trip. The room's feeds are leased ones.
    get_feed: serveLeasedFeed,
  },
};
