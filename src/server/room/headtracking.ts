/**
 * Head tracking: the room remembers, per identity, the highest valid signed
 * entry it was shown (`announce`), in the object's SQLite storage, and
 * answers `get_heads` with what it knows. Presence claims are not tracked:
 * only entries the room verified. A lower entry never replaces a higher one
 * (no rollback); a rebase re-signs onto comparables above the old head, so it
 * outranks it and is accepted like any newer head.
 */
import { compareHeads, openEntry, rankOf, type Entry, type Hash, type Identity } from '../../protocol/index.ts';
import { ROOM_LIMITS } from './limits.ts';
import type { RoomService } from './service.ts';
import type { TrackedHead, TrackedHeads } from './storage.ts';

function initHeads(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS heads (
    identity TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    comparable INTEGER NOT NULL,
    synod TEXT,
    size INTEGER NOT NULL,
    entry TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  )`);
  sql.exec('CREATE INDEX IF NOT EXISTS heads_hash ON heads (hash)');
}

/** The heads table, as the room hands it to every service (room.heads). */
export function trackedHeads(sql: SqlStorage): TrackedHeads {
  return {
    get: (identity) =>
      sql
        .exec<Record<string, SqlStorageValue>>('SELECT identity, hash, comparable, synod, size FROM heads WHERE identity = ?', identity)
        .toArray()[0] as TrackedHead | undefined,
    entry: (hash) =>
      sql.exec<{ size: number; text: string }>('SELECT size, entry AS text FROM heads WHERE hash = ? LIMIT 1', hash).toArray()[0],
  };
}

function putHead(sql: SqlStorage, entry: Entry, now: number): void {
  sql.exec(
    'INSERT OR REPLACE INTO heads (identity, hash, comparable, synod, size, entry, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    entry.body.identity,
    entry.hash,
    entry.body.comparable,
    entry.body.synod?.[0] ?? null,
    entry.size,
    entry.text,
    now,
  );
}

export const headtracking: RoomService = {
  name: 'headtracking',
  offer: 'default',
  init: initHeads,
  handlers: {
    async announce(room, conn, msg) {
      const opened = await openEntry(msg.entry);
      if (!opened.ok) {
        room.fail(conn, 'bad_entry', `${opened.error.code}: ${opened.error.message}`, msg.id);
        return;
      }
      const entry = opened.value;
      const identity = entry.body.identity;
      // Your own head, or your synod's (the synod your own tracked head names).
      if (identity !== conn.identity && room.heads.get(conn.identity)?.synod !== identity) {
        room.fail(
          conn,
          'forbidden',
          `entry is signed by ${identity}; a session may announce only its own heads (${conn.identity}) and its synod's`,
          msg.id,
        );
        return;
      }
      // Nothing awaits from here on, so the compare-and-store cannot interleave with another announce.
      const stored = room.heads.get(identity);
      if (stored?.hash === entry.hash) {
        room.reply(conn, msg, { type: 'ok' });
        return;
      }
      if (stored && compareHeads(rankOf(entry), stored) >= 0) {
        room.fail(
          conn,
          'rollback',
          `the room holds ${stored.hash} (comparable ${stored.comparable}) for ${identity}, which outranks ${entry.hash} (comparable ${entry.body.comparable})`,
          msg.id,
        );
        return;
      }
      putHead(room.sql, entry, Date.now());
      room.presence.setHead(identity, entry.hash);
      room.broadcast({ type: 'head', identity, head: entry.hash }, (other) => other === conn);
      room.reply(conn, msg, { type: 'ok' });
    },

    async get_heads(room, conn, msg) {
      const heads: [Identity, Hash][] = [];
      const asked = [...new Set(msg.identities)];
      // Heads of data leases count too; the higher-ranked one wins.
      const leased = await room.hosted.leasedHeads(asked);
      for (const identity of asked) {
        const stored = room.heads.get(identity);
        const lease = leased.get(identity);
        const best = stored && lease ? (compareHeads(lease, stored) < 0 ? lease : stored) : (stored ?? lease);
        if (best) heads.push([identity, best.hash]);
      }
      for (let i = 0; i === 0 || i < heads.length; i += ROOM_LIMITS.listChunk) {
        room.reply(conn, msg, { type: 'last_known_heads', heads: heads.slice(i, i + ROOM_LIMITS.listChunk) });
      }
    },
  },
};
