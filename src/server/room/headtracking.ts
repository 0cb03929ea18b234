/**
 * Head tracking: the room remembers, per identity, the highest valid signed
 * entry it was shown (`announce`), in the SQLite storage of the identity's
 * home shard, and answers `get_heads` with what it knows, asking each shard
 * for the identities homed there. Presence claims are not tracked: only
 * entries the room verified. A lower entry never replaces a higher one (no
 * rollback); a rebase re-signs onto comparables above the old head, so it
 * outranks it and is accepted like any newer head. A device's heads past a
 * revocation the room was shown are refused (revocations.ts). A head that moved is
 * told only to the subscribers of its identity whom the announcing session
 * lets see it (watchers.ts): that a head moved just now says someone is here.
 */
import { compareHeads, openEntry, rankOf, trustedEntry, type Entry, type Hash, type Identity } from '../../protocol/index.ts';
import { chargeWork, ROOM_LIMITS } from './limits.ts';
import { initRevocations, RevocationTable } from './revocations.ts';
import type { RoomService } from './service.ts';
import type { Shards } from './shards.ts';
import type { HeadEntry, PutResult, TrackedHead, TrackedHeads } from './storage.ts';

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
  initRevocations(sql);
  sql.exec('CREATE INDEX IF NOT EXISTS heads_updated_at ON heads (updated_at)');
}

/** This shard's heads table: the identities homed here, and what the room knows of their revocation. */
export class HeadTable {
  readonly revocations: RevocationTable;

  constructor(private readonly sql: SqlStorage) {
    this.revocations = new RevocationTable(sql);
  }

  get(identity: Identity): TrackedHead | undefined {
    return this.sql
      .exec<Record<string, SqlStorageValue>>('SELECT identity, hash, comparable, synod, size FROM heads WHERE identity = ?', identity)
      .toArray()[0] as TrackedHead | undefined;
  }

  entries(hashes: readonly Hash[]): HeadEntry[] {
    const out: HeadEntry[] = [];
    for (const hash of new Set(hashes)) {
      const row = this.sql
        .exec<{ size: number; text: string }>('SELECT size, entry AS text FROM heads WHERE hash = ? LIMIT 1', hash)
        .toArray()[0];
      if (row) out.push({ hash, size: row.size, text: row.text });
    }
    return out;
  }

  /**
   * The stateless tracker (design: keep no data you needn't): forgets heads
   * not announced for `ttlMs` whose identity is not `kept` (present here, or
   * watched: someone subscribes to it). A leased feed's head is served from
   * the lease (D1), so forgetting the room's copy loses nothing. At most
   * `batch` rows a call; answers how many went.
   */
  prune(now: number, ttlMs: number, kept: (identity: Identity) => boolean, batch = 512): number {
    const old = this.sql
      .exec<{ identity: Identity }>('SELECT identity FROM heads WHERE updated_at < ? ORDER BY updated_at LIMIT ?', now - ttlMs, batch)
      .toArray()
      .map((row) => row.identity)
      .filter((identity) => !kept(identity));
    for (const identity of old) this.sql.exec('DELETE FROM heads WHERE identity = ?', identity);
    return old.length;
  }

  /**
   * Compare-and-store in one synchronous step (nothing can interleave); on a
   * change `stored` runs and names the identity's subscribers.
   */
  store(entry: Entry, stored: (entry: Entry) => Identity[]): PutResult {
    const identity = entry.body.identity;
    const claim = entry.body.synod?.[0] ?? null;
    // A revoked device's later heads are not tracked (§9.7): past its cut, whatever synod it claims now.
    const cut = this.revocations.cutOf(identity, claim);
    if (cut !== null && entry.body.comparable > cut) return { status: 'revoked', cut };
    if (claim) this.revocations.claim(identity, claim);
    const current = this.get(identity);
    if (current?.hash === entry.hash) return { status: 'same' };
    if (current && compareHeads(rankOf(entry), current) >= 0) return { status: 'rollback', stored: current };
    this.sql.exec(
      'INSERT OR REPLACE INTO heads (identity, hash, comparable, synod, size, entry, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      entry.body.identity,
      entry.hash,
      entry.body.comparable,
      entry.body.synod?.[0] ?? null,
      entry.size,
      entry.text,
      Date.now(),
    );
    return { status: 'stored', subscribers: stored(entry) };
  }

  /** `synod` revoked `device` at `cut`: remembered, and a stored head of the device past the cut is dropped when the device claimed `synod`. */
  revoke(synod: Identity, device: Identity, cut: number): void {
    this.revocations.record(synod, device, cut);
    const current = this.get(device);
    const binding = this.revocations.cutOf(device, current?.synod ?? null);
    if (current && binding !== null && current.comparable > binding) {
      this.sql.exec('DELETE FROM heads WHERE identity = ?', device);
    }
  }
}

/** The heads of the whole room as services see them: this shard's table, and the other shards' by RPC. */
export function shardedHeads(table: HeadTable, shards: () => Shards, stored: (entry: Entry) => Identity[]): TrackedHeads {
  const many = async (identities: readonly Identity[]): Promise<Map<Identity, TrackedHead>> => {
    const out = new Map<Identity, TrackedHead>();
    const elsewhere = new Map<number, Identity[]>();
    for (const identity of identities) {
      const home = shards().home(identity);
      if (home === shards().self) {
        const head = table.get(identity);
        if (head) out.set(identity, head);
      } else elsewhere.set(home, [...(elsewhere.get(home) ?? []), identity]);
    }
    const answers = await Promise.all([...elsewhere].map(([home, asked]) => shards().stub(home).headsOf(asked)));
    for (const head of answers.flat()) out.set(head.identity, head);
    return out;
  };
  return {
    many,
    get: async (identity) => (await many([identity])).get(identity),
    async entries(hashes) {
      const out = new Map(table.entries(hashes).map((e) => [e.hash, e]));
      const rest = hashes.filter((h) => !out.has(h));
      if (rest.length > 0) {
        const answers = await Promise.all(
          shards()
            .others()
            .map((shard) => shards().stub(shard).entriesOf(rest)),
        );
        for (const e of answers.flat()) out.set(e.hash, e);
      }
      return out;
    },
    async put(head) {
      const entry = trustedEntry(head.hash, head.text);
      const home = shards().home(entry.body.identity);
      if (home === shards().self) return table.store(entry, stored);
      return shards().stub(home).putHead(head.hash, head.text);
    },
    async revoke(synod, device, cut) {
      const home = shards().home(device);
      if (home === shards().self) table.revoke(synod, device, cut);
      else await shards().stub(home).revoke(synod, device, cut);
    },
    async revocations(devices) {
      const local: Identity[] = [];
      const elsewhere = new Map<number, Identity[]>();
      for (const device of devices) {
        const home = shards().home(device);
        if (home === shards().self) local.push(device);
        else elsewhere.set(home, [...(elsewhere.get(home) ?? []), device]);
      }
      const answers = await Promise.all([...elsewhere].map(([home, asked]) => shards().stub(home).revocationsOf(asked)));
      return [...table.revocations.of(local), ...answers.flat()];
    },
  };
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
      if (identity !== conn.identity && (await room.heads.get(conn.identity))?.synod !== identity) {
        room.fail(
          conn,
          'forbidden',
          `entry is signed by ${identity}; a session may announce only its own heads (${conn.identity}) and its synod's`,
          msg.id,
        );
        return;
      }
      // A synod's revocation is news even when it is not the synod's newest entry (answered rollback below).
      const p = entry.body.payload;
      if (p.type === 'synod' && p.op === 'revoke_device') await room.heads.revoke(identity, p.device, p.cut);
      // The compare-and-store runs in one step at the identity's home shard.
      const result = await room.heads.put({ hash: entry.hash, size: entry.size, text: entry.text });
      if (result.status === 'revoked') {
        room.fail(conn, 'bad_entry', `revoked: ${entry.hash} comes after this device's revocation (cut ${result.cut})`, msg.id);
        return;
      }
      if (result.status === 'rollback') {
        const stored = result.stored;
        room.fail(
          conn,
          'rollback',
          `the room holds ${stored.hash} (comparable ${stored.comparable}) for ${identity}, which outranks ${entry.hash} (comparable ${entry.body.comparable})`,
          msg.id,
        );
        return;
      }
      if (result.status === 'stored') room.watchers.headMoved(conn.identity, identity, entry.hash, result.subscribers);
      room.reply(conn, msg, { type: 'ok' });
    },

    async get_heads(room, conn, msg) {
      const heads: [Identity, Hash][] = [];
      const asked = [...new Set(msg.identities)];
      // Heads of data leases count too; the higher-ranked one wins.
      const cost = { queries: 0, rows: 0 };
      const [tracked, leased] = await Promise.all([room.heads.many(asked), room.hosted.leasedHeads(asked, cost)]);
      chargeWork(conn, cost);
      // A leased head past a revocation the room knows is not served either.
      const cuts = new Map<Identity, number>();
      if (leased.size > 0) {
        for (const r of await room.heads.revocations([...leased.keys()]))
          if (r.bound) cuts.set(r.device, Math.min(r.cut, cuts.get(r.device) ?? r.cut));
      }
      for (const identity of asked) {
        const stored = tracked.get(identity);
        const cut = cuts.get(identity);
        const lease = cut !== undefined && (leased.get(identity)?.comparable ?? 0) > cut ? undefined : leased.get(identity);
        const best = stored && lease ? (compareHeads(lease, stored) < 0 ? lease : stored) : (stored ?? lease);
        if (best) heads.push([identity, best.hash]);
      }
      for (let i = 0; i === 0 || i < heads.length; i += ROOM_LIMITS.listChunk) {
        room.reply(conn, msg, { type: 'last_known_heads', heads: heads.slice(i, i + ROOM_LIMITS.listChunk) });
      }
    },
  },
};
