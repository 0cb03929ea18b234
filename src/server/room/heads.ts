/**
 * Head tracking: the room remembers, per identity, the highest valid signed
 * entry it was shown (`announce`), in the object's SQLite storage, and
 * answers `get_heads` with what it knows. Presence claims are not tracked:
 * only entries the room verified. A lower entry never replaces a higher one
 * (no rollback); a rebase re-signs onto comparables above the old head, so it
 * outranks it and is accepted like any newer head.
 */
import { compareHeads, openEntry, rankOf, type Entry, type Hash, type Identity } from '../../protocol/index.ts';
import { leasedHeads } from '../hosted/serve.ts';
import { ROOM_LIMITS } from './limits.ts';
import type { RoomService } from './service.ts';

export interface StoredHead {
  identity: Identity;
  hash: Hash;
  comparable: number;
  synod: Identity | null;
  size: number;
}

const COLUMNS = 'identity, hash, comparable, synod, size';

/** The heads table; blobs.ts reads entries from it too. */
export const headStore = {
  init(sql: SqlStorage): void {
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
  },

  get(sql: SqlStorage, identity: string): StoredHead | undefined {
    return sql.exec<Record<string, SqlStorageValue>>(`SELECT ${COLUMNS} FROM heads WHERE identity = ?`, identity).toArray()[0] as
      StoredHead | undefined;
  },

  byHash(sql: SqlStorage, hash: string): { size: number; entry: string } | undefined {
    return sql.exec<{ size: number; entry: string }>('SELECT size, entry FROM heads WHERE hash = ? LIMIT 1', hash).toArray()[0];
  },

  put(sql: SqlStorage, entry: Entry, now: number): void {
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
  },
};

export const headtracking: RoomService = {
  name: 'headtracking',
  offer: 'default',
  init: headStore.init,
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
      if (identity !== conn.identity && headStore.get(room.sql, conn.identity)?.synod !== identity) {
        room.fail(
          conn,
          'forbidden',
          `entry is signed by ${identity}; a session may announce only its own heads (${conn.identity}) and its synod's`,
          msg.id,
        );
        return;
      }
      // Nothing awaits from here on, so the compare-and-store cannot interleave with another announce.
      const stored = headStore.get(room.sql, identity);
      if (stored?.hash === entry.hash) {
        room.send(conn, { type: 'ok', ...(msg.id ? { re: msg.id } : {}) });
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
      headStore.put(room.sql, entry, Date.now());
      room.presence.setHead(identity, entry.hash);
      room.broadcast({ type: 'head', identity, head: entry.hash }, (other) => other === conn);
      room.send(conn, { type: 'ok', ...(msg.id ? { re: msg.id } : {}) });
    },

    async get_heads(room, conn, msg) {
      const heads: [Identity, Hash][] = [];
      const asked = [...new Set(msg.identities)];
      // Heads of data leases (hosted/lease.ts) count too; the higher-ranked one wins.
      const leased = await leasedHeads(room.bindings.DB, asked);
      for (const identity of asked) {
        const stored = headStore.get(room.sql, identity);
        const lease = leased.get(identity);
        if (stored && lease && compareHeads(lease, stored) < 0) {
          heads.push([identity, lease.hash]);
        } else if (stored) heads.push([identity, stored.hash]);
        else if (lease) heads.push([identity, lease.hash]);
      }
      const re = msg.id ? { re: msg.id } : {};
      for (let i = 0; i === 0 || i < heads.length; i += ROOM_LIMITS.listChunk) {
        room.send(conn, { type: 'last_known_heads', ...re, heads: heads.slice(i, i + ROOM_LIMITS.listChunk) });
      }
    },
  },
};
