/**
 * Data leases in D1 (docs/hosted.md §3): the `leases` rows, the entries a
 * pull stages (`leased_entries` marked with the pull's id, invisible until
 * the commit), and the per-identity pull lock (`lease_pulls`).
 */
import { trustedEntry, type Entry, type Hash, type Identity } from '../../protocol/index.ts';
import { chunks, placeholders } from './d1.ts';
import { HOSTED_LIMITS } from './limits.ts';

export interface StoredLease {
  head: Hash;
  comparable: number;
  entries: number;
  bytes: number;
  expires_at: number;
}

/** The lease of `identity` if it is still live at `now`: an expired lease's entries may be going away under the cleanup. */
export async function liveLease(db: D1Database, identity: Identity, now: number): Promise<StoredLease | null> {
  const lease = await db
    .prepare('SELECT head, comparable, entries, bytes, expires_at FROM leases WHERE identity = ?')
    .bind(identity)
    .first<StoredLease>();
  return lease && lease.expires_at > now ? lease : null;
}

/** Extends a live lease that already stands at `head`; the expiry never shrinks. Answers whether it did. */
export async function renewLease(db: D1Database, identity: Identity, head: Hash, holder: Identity, expires: number, now: number) {
  const res = await db
    .prepare(
      'UPDATE leases SET expires_at = MAX(expires_at, ?), holder = ?, renewed_at = ? WHERE identity = ? AND head = ? AND expires_at > ?',
    )
    .bind(expires, holder, now, identity, head, now)
    .run();
  return (res.meta.changes ?? 0) === 1;
}

export interface LeaseUse {
  /** Live leases the holder holds, other than of the identity asked. */
  held: number;
  /** Entry bytes of live leases last called from the address (other than the identity's), and of all live leases. */
  ip: number;
  total: number;
}

/** What a new lease would add to: the holder's leases, its address's bytes, the server's bytes (one round trip). */
export async function leaseUse(db: D1Database, holder: Identity, identity: Identity, ip: string | null, now: number): Promise<LeaseUse> {
  const row = await db
    .prepare(
      `SELECT (SELECT COUNT(*) FROM leases WHERE holder = ?1 AND expires_at > ?2 AND identity != ?3) AS held,
              (SELECT COALESCE(SUM(bytes), 0) FROM leases WHERE ip = ?4 AND ?4 != '' AND expires_at > ?2 AND identity != ?3) AS ip,
              (SELECT COALESCE(MAX(bytes), 0) FROM usage_totals WHERE scope = 'leases') AS total`,
    )
    .bind(holder, now, identity, ip ?? '')
    .first<LeaseUse>();
  return { held: row?.held ?? 0, ip: row?.ip ?? 0, total: row?.total ?? 0 };
}

/** Takes the one pull of `identity` across every room; a lock older than a whole pull may take is a crashed pull's. */
export async function claimPull(db: D1Database, identity: Identity, pull: string, now: number): Promise<boolean> {
  const claimed = await db
    .prepare(
      `INSERT INTO lease_pulls (identity, pull, started_at) VALUES (?, ?, ?)
       ON CONFLICT (identity) DO UPDATE SET pull = excluded.pull, started_at = excluded.started_at
       WHERE lease_pulls.started_at < ?`,
    )
    .bind(identity, pull, now, now - HOSTED_LIMITS.pullTotalMs)
    .run();
  return (claimed.meta.changes ?? 0) === 1;
}

export async function releasePull(db: D1Database, identity: Identity, pull: string): Promise<void> {
  await db.prepare('DELETE FROM lease_pulls WHERE identity = ? AND pull = ?').bind(identity, pull).run();
}

/** Committed entries of `identity` among `hashes` (validated when stored, so rebuilt without verifying again). */
export async function heldAmong(db: D1Database, identity: Identity, hashes: readonly Hash[]): Promise<Map<Hash, Entry>> {
  const out = new Map<Hash, Entry>();
  for (const part of chunks(hashes, 1)) {
    const rows = await db
      .prepare(`SELECT hash, text FROM leased_entries WHERE identity = ? AND pull IS NULL AND hash IN (${placeholders(part.length)})`)
      .bind(identity, ...part)
      .all<{ hash: Hash; text: string }>();
    for (const r of rows.results) out.set(r.hash, trustedEntry(r.hash, r.text));
  }
  return out;
}

/** A follow or a block, and whom it names (the dropbox lets a target's friends through: drop-store.ts). */
function relation(e: Entry): [string | null, string | null] {
  const p = e.body.payload;
  return p.type === 'follow' || p.type === 'block' ? [p.type, p.identity] : [null, null];
}

/** Stores entries of a pull in progress, marked with its id: invisible until commitLease. */
export async function stageEntries(db: D1Database, identity: Identity, entries: readonly Entry[], pull: string, now: number) {
  const stmt = db.prepare(
    `INSERT INTO leased_entries (hash, identity, parent, comparable, synod, size, text, stored_at, pull, kind, subject)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (hash) DO UPDATE SET pull = excluded.pull, stored_at = excluded.stored_at`,
  );
  for (let i = 0; i < entries.length; i += HOSTED_LIMITS.storeBatch) {
    await db.batch(
      entries.slice(i, i + HOSTED_LIMITS.storeBatch).map((e) => {
        const [kind, subject] = relation(e);
        return stmt.bind(
          e.hash,
          identity,
          e.body.parent,
          e.body.comparable,
          e.body.synod?.[0] ?? null,
          e.size,
          e.text,
          now,
          pull,
          kind,
          subject,
        );
      }),
    );
  }
}

/**
 * One transaction: the pull's entries become the chain, the lease moves to
 * `head`, entries the new chain no longer reaches go (a rebase's superseded
 * ones), and the counts are taken again. Answers the lease's expiry.
 */
export async function commitLease(
  db: D1Database,
  lease: { identity: Identity; head: Entry; holder: Identity; ip: string | null; expires: number; pull: string; live: StoredLease | null },
  now: number,
): Promise<number> {
  const { identity, head } = lease;
  const results = await db.batch([
    db.prepare('UPDATE leased_entries SET pull = NULL WHERE identity = ? AND pull = ?').bind(identity, lease.pull),
    db
      .prepare(
        `INSERT INTO leases (identity, head, comparable, entries, bytes, holder, created_at, renewed_at, expires_at, ip)
         VALUES (?, ?, ?, 0, 0, ?, ?, ?, ?, ?)
         ON CONFLICT (identity) DO UPDATE SET head = excluded.head, comparable = excluded.comparable, holder = excluded.holder,
           renewed_at = excluded.renewed_at, ip = excluded.ip,
           expires_at = CASE WHEN leases.expires_at > excluded.renewed_at THEN MAX(leases.expires_at, excluded.expires_at) ELSE excluded.expires_at END`,
      )
      .bind(identity, head.hash, head.body.comparable, lease.holder, now, now, lease.expires, lease.ip ?? ''),
    db
      .prepare(
        `DELETE FROM leased_entries WHERE identity = ?1 AND pull IS NULL AND hash NOT IN (
           WITH RECURSIVE chain(h) AS (
             SELECT ?2
             UNION ALL
             SELECT e.parent FROM leased_entries e JOIN chain ON e.hash = chain.h WHERE e.identity = ?1 AND e.parent IS NOT NULL
           ) SELECT h FROM chain)`,
      )
      .bind(identity, head.hash),
    db
      .prepare('DELETE FROM leased_refs WHERE identity = ?1 AND entry NOT IN (SELECT hash FROM leased_entries WHERE identity = ?1)')
      .bind(identity),
    db
      .prepare(
        `UPDATE leases SET entries = (SELECT COUNT(*) FROM leased_entries WHERE identity = ?1 AND pull IS NULL),
           bytes = (SELECT COALESCE(SUM(size), 0) FROM leased_entries WHERE identity = ?1 AND pull IS NULL)
         WHERE identity = ?1`,
      )
      .bind(identity),
    // The server's leased bytes grow by what this lease grew (a shrink comes off at the cleanup's recount).
    db
      .prepare(
        "UPDATE usage_totals SET bytes = bytes + MAX(0, (SELECT bytes FROM leases WHERE identity = ?1) - ?2), items = items + ?3 WHERE scope = 'leases'",
      )
      .bind(identity, lease.live?.bytes ?? 0, lease.live ? 0 : 1),
    db.prepare('SELECT expires_at FROM leases WHERE identity = ?').bind(identity),
  ]);
  const row = (results[6]?.results as { expires_at: number }[] | undefined)?.[0];
  return row?.expires_at ?? lease.expires;
}
