/**
 * What the whole server stores, per kind, for the server-wide budgets
 * (DROP_BYTES_TOTAL, BLOB_BYTES_TOTAL, LEASE_BYTES_TOTAL). Summing a table
 * on every store would read every row, so D1's `usage_totals` keeps a
 * running figure: raised in the same batch as each store, and recounted
 * exactly by the scheduled cleanup, which is when deletions come off. Between
 * runs it can only err high: a budget refuses early, never late.
 */
export type UsageScope = 'drops' | 'blobs' | 'leases';

/** A statement reading a scope's bytes (one row: `{bytes}`), for a batch. */
export const usageStatement = (db: D1Database, scope: UsageScope): D1PreparedStatement =>
  db.prepare('SELECT bytes FROM usage_totals WHERE scope = ?').bind(scope);

/** A statement adding to a scope, for the batch that stores the bytes. */
export const addUsageStatement = (db: D1Database, scope: UsageScope, bytes: number, items = 1): D1PreparedStatement =>
  db.prepare('UPDATE usage_totals SET bytes = bytes + ?, items = items + ? WHERE scope = ?').bind(bytes, items, scope);

/** The scope's bytes from a batch result of usageStatement. */
export const usageBytes = (result: D1Result | undefined): number =>
  Number((result?.results[0] as { bytes?: number } | undefined)?.bytes ?? 0);

/** Recounts every scope from the tables (the cleanup's last step). */
export async function recountUsage(db: D1Database, now: number): Promise<void> {
  await db.batch([
    db
      .prepare(
        `UPDATE usage_totals SET counted_at = ?1,
           bytes = (SELECT COALESCE(SUM(size), 0) FROM drops WHERE expires_at > ?1),
           items = (SELECT COUNT(*) FROM drops WHERE expires_at > ?1)
         WHERE scope = 'drops'`,
      )
      .bind(now),
    db
      .prepare(
        `UPDATE usage_totals SET counted_at = ?1, bytes = (SELECT COALESCE(SUM(size), 0) FROM blobs), items = (SELECT COUNT(*) FROM blobs)
         WHERE scope = 'blobs'`,
      )
      .bind(now),
    db
      .prepare(
        `UPDATE usage_totals SET counted_at = ?1,
           bytes = (SELECT COALESCE(SUM(bytes), 0) FROM leases WHERE expires_at > ?1),
           items = (SELECT COUNT(*) FROM leases WHERE expires_at > ?1)
         WHERE scope = 'leases'`,
      )
      .bind(now),
  ]);
}
