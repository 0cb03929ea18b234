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
  expires_at: number;
}

/** The lease of `identity` if it is still live at `now`: an expired lease's entries may be going away under the cleanup. */
export async function liveLease(db: D1Database, identity: Identity, now: number): Promise<StoredLease | null> {
  const lease = await db
    .prepare('SELECT head, comparable, entries, expires_at FROM leases WHERE identity = ?')
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

/** Live leases `holder` holds, other than of `identity`. */
export async function leasesHeld(db: D1Database, holder: Identity, identity: Identity, now: number): Promise<number> {
  const held = await db
    .prepare('SELECT COUNT(*) AS n FROM leases WHERE holder = ? AND expires_at > ? AND identity != ?')
    .bind(holder, now, identity)
    .first<{ n: number }>();
  return held?.n ?? 0;
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

/** Stores entries of a pull in progress, marked with its id: invisible until commitLease. */
export async function stageEntries(db: D1Database, identity: Identity, entries: readonly Entry[], pull: string, now: number) {
  const stmt = db.prepare(
    `INSERT INTO leased_entries (hash, identity, parent, comparable, synod, size, text, stored_at, pull)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (hash) DO UPDATE SET pull = excluded.pull, stored_at = excluded.stored_at`,
  );
  for (let i = 0; i < entries.length; i += HOSTED_LIMITS.storeBatch) {
    await db.batch(
      entries
        .slice(i, i + HOSTED_LIMITS.storeBatch)
        .map((e) => stmt.bind(e.hash, identity, e.body.parent, e.body.comparable, e.body.synod?.[0] ?? null, e.size, e.text, now, pull)),
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
  lease: { identity: Identity; head: Entry; holder: Identity; expires: number; pull: string },
  now: number,
): Promise<number> {
  const { identity, head } = lease;
  const results = await db.batch([
    db.prepare('UPDATE leased_entries SET pull = NULL WHERE identity = ? AND pull = ?').bind(identity, lease.pull),
    db
      .prepare(
        `INSERT INTO leases (identity, head, comparable, entries, bytes, holder, created_at, renewed_at, expires_at)
         VALUES (?, ?, ?, 0, 0, ?, ?, ?, ?)
         ON CONFLICT (identity) DO UPDATE SET head = excluded.head, comparable = excluded.comparable, holder = excluded.holder,
           renewed_at = excluded.renewed_at,
           expires_at = CASE WHEN leases.expires_at > excluded.renewed_at THEN MAX(leases.expires_at, excluded.expires_at) ELSE excluded.expires_at END`,
      )
      .bind(identity, head.hash, head.body.comparable, lease.holder, now, now, lease.expires),
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
    db.prepare('SELECT expires_at FROM leases WHERE identity = ?').bind(identity),
  ]);
  const row = (results[5]?.results as { expires_at: number }[] | undefined)?.[0];
  return row?.expires_at ?? lease.expires;
}
