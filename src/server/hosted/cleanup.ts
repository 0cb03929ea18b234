/**
 * The scheduled cleanup (cron, src/server/scheduled.ts): everything past its
 * time goes, in bounded batches (HOSTED_LIMITS.cleanupBatch rows a
 * statement, cleanupRounds statements a step), so one run has a bounded
 * cost and what is left waits for the next run.
 *
 * 1. drops past expires_at;
 * 2. expired leases: their committed entries, then their blob references,
 *    then the lease row (last, so an interrupted run resumes it); every
 *    statement re-checks that the lease is still expired, so a renewal
 *    racing the cleanup keeps what it renewed;
 * 3. entries of pulls that never committed, and references to entries that
 *    are gone;
 * 4. blobs past their grace time that no live lease references: R2 object
 *    first, then the row;
 * 5. the public endpoint's bookkeeping: remembered signatures past their
 *    window, rate windows past their hour, upload slots past their
 *    deadline; then the server-wide usage is recounted from the tables.
 */
import type { Hash } from '../../protocol/index.ts';
import type { Env } from '../env.ts';
import { blobKey } from './blobstore.ts';
import { chunks, deleteInRounds, placeholders } from './d1.ts';
import { HOSTED_LIMITS } from './limits.ts';
import { periodOf } from '../rate-windows.ts';
import { recountUsage } from './usage.ts';

export interface CleanupReport {
  drops: number;
  leases: number;
  leasedEntries: number;
  refs: number;
  pulls: number;
  blobs: number;
  /** Remembered signatures, rate windows and upload slots. */
  bookkeeping: number;
}

export async function cleanup(env: Env, now = Date.now()): Promise<CleanupReport> {
  const db = env.DB;
  const { cleanupBatch: batch, cleanupRounds: rounds } = HOSTED_LIMITS;
  const report: CleanupReport = { drops: 0, leases: 0, leasedEntries: 0, refs: 0, pulls: 0, blobs: 0, bookkeeping: 0 };

  // 1. Drops.
  report.drops = await deleteInRounds(
    db,
    'DELETE FROM drops WHERE hash IN (SELECT hash FROM drops WHERE expires_at <= ? LIMIT ?)',
    [now, batch],
    batch,
    rounds,
  );

  // 2. Expired leases, a few identities per run.
  const expired = await db
    .prepare('SELECT identity FROM leases WHERE expires_at <= ? ORDER BY expires_at LIMIT ?')
    .bind(now, rounds)
    .all<{ identity: string }>();
  let budget = rounds * 2;
  for (const { identity } of expired.results) {
    if (budget <= 0) break;
    const stillExpired = 'EXISTS (SELECT 1 FROM leases WHERE identity = ?2 AND expires_at <= ?3)';
    const entries = await deleteInRounds(
      db,
      `DELETE FROM leased_entries WHERE rowid IN (SELECT rowid FROM leased_entries WHERE identity = ?2 AND pull IS NULL AND ${stillExpired} LIMIT ?1)`,
      [batch, identity, now],
      batch,
      budget,
    );
    report.leasedEntries += entries;
    budget -= Math.ceil((entries + 1) / batch);
    const refs = await deleteInRounds(
      db,
      `DELETE FROM leased_refs WHERE rowid IN (SELECT rowid FROM leased_refs WHERE identity = ?2 AND ${stillExpired}
         AND entry NOT IN (SELECT hash FROM leased_entries WHERE identity = ?2) LIMIT ?1)`,
      [batch, identity, now],
      batch,
      Math.max(1, budget),
    );
    report.refs += refs;
    budget -= Math.ceil((refs + 1) / batch);
    const gone = await db
      .prepare(
        `DELETE FROM leases WHERE identity = ?1 AND expires_at <= ?2
           AND NOT EXISTS (SELECT 1 FROM leased_entries WHERE identity = ?1 AND pull IS NULL)
           AND NOT EXISTS (SELECT 1 FROM leased_refs WHERE identity = ?1)`,
      )
      .bind(identity, now)
      .run();
    report.leases += gone.meta.changes ?? 0;
  }

  // 3. Pulls that never committed, and dangling references.
  const stale = now - HOSTED_LIMITS.orphanGraceMs;
  report.leasedEntries += await deleteInRounds(
    db,
    'DELETE FROM leased_entries WHERE rowid IN (SELECT rowid FROM leased_entries WHERE pull IS NOT NULL AND stored_at < ? LIMIT ?)',
    [stale, batch],
    batch,
    rounds,
  );
  report.pulls += (await db.prepare('DELETE FROM lease_pulls WHERE started_at < ?').bind(stale).run()).meta.changes ?? 0;
  report.refs += await deleteInRounds(
    db,
    `DELETE FROM leased_refs WHERE rowid IN (SELECT r.rowid FROM leased_refs r
       WHERE NOT EXISTS (SELECT 1 FROM leased_entries e WHERE e.hash = r.entry) LIMIT ?)`,
    [batch],
    batch,
    rounds,
  );

  // 4. Blobs nobody keeps any more.
  for (let i = 0; i < rounds; i++) {
    const rows = await db
      .prepare(
        `SELECT hash FROM blobs b WHERE b.expires_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM leased_refs r JOIN leases l ON l.identity = r.identity WHERE r.hash = b.hash AND l.expires_at > ?1)
         LIMIT ?2`,
      )
      .bind(now, batch)
      .all<{ hash: Hash }>();
    const hashes = rows.results.map((r) => r.hash);
    if (hashes.length === 0) break;
    await env.BLOBS.delete(hashes.map(blobKey));
    for (const part of chunks(hashes, 1)) {
      const res = await db
        .prepare(`DELETE FROM blobs WHERE expires_at <= ? AND hash IN (${placeholders(part.length)})`)
        .bind(now, ...part)
        .run();
      report.blobs += res.meta.changes ?? 0;
    }
    if (hashes.length < batch) break;
  }

  // 5. Bookkeeping of the public endpoint, then the server's totals.
  report.bookkeeping += await deleteInRounds(
    db,
    'DELETE FROM request_nonces WHERE rowid IN (SELECT rowid FROM request_nonces WHERE expires_at <= ? LIMIT ?)',
    [now, batch],
    batch,
    rounds,
  );
  report.bookkeeping += await deleteInRounds(
    db,
    'DELETE FROM rate_windows WHERE rowid IN (SELECT rowid FROM rate_windows WHERE period < ? LIMIT ?)',
    [periodOf(now), batch],
    batch,
    rounds,
  );
  report.bookkeeping += (await db.prepare('DELETE FROM upload_slots WHERE deadline <= ?').bind(now).run()).meta.changes ?? 0;
  await recountUsage(db, now);
  return report;
}
