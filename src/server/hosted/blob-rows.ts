/**
 * The D1 accounting of blobs in R2 (`blobs`): one row per complete object,
 * with its size, its first uploader (whose budget it counts against), the
 * client address it came from, and its expiry. Budgets are checked from one
 * batch: the identity's bytes, the address's bytes, the server's bytes.
 */
import type { Hash, Identity } from '../../protocol/index.ts';
import { HOSTED_LIMITS } from './limits.ts';
import { usageBytes, usageStatement } from './usage.ts';

export interface BlobRow {
  hash: Hash;
  size: number;
  owner: Identity;
  created_at: number;
  expires_at: number;
}

export interface BlobUse {
  existing: BlobRow | null;
  /** Bytes stored as first uploader by the identity, from the address, and in all. */
  identity: number;
  ip: number;
  total: number;
}

export const blobRows = {
  get(db: D1Database, hash: string): Promise<BlobRow | null> {
    return db.prepare('SELECT hash, size, owner, created_at, expires_at FROM blobs WHERE hash = ?').bind(hash).first<BlobRow>();
  },

  /** The row of `hash` and the bytes counted against the uploader, its address and the server, in one round trip. */
  async lookup(db: D1Database, hash: string, owner: string, ip: string | null): Promise<BlobUse> {
    const [row, byOwner, byIp, total] = await db.batch<Record<string, unknown>>([
      db.prepare('SELECT hash, size, owner, created_at, expires_at FROM blobs WHERE hash = ?').bind(hash),
      db.prepare('SELECT COALESCE(SUM(size), 0) AS used FROM blobs WHERE owner = ?').bind(owner),
      db.prepare('SELECT COALESCE(SUM(size), 0) AS used FROM blobs WHERE ip = ?').bind(ip ?? ''),
      usageStatement(db, 'blobs'),
    ]);
    return {
      existing: (row?.results[0] as BlobRow | undefined) ?? null,
      identity: Number(byOwner?.results[0]?.used ?? 0),
      ip: ip ? Number(byIp?.results[0]?.used ?? 0) : 0,
      total: usageBytes(total),
    };
  },

  /** Records a complete object, or pushes an existing row's expiry out; the first uploader stays the owner. */
  async record(db: D1Database, hash: Hash, size: number, owner: Identity, ip: string | null, now: number): Promise<void> {
    await db.batch([
      db
        .prepare(
          `INSERT INTO blobs (hash, size, owner, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (hash) DO UPDATE SET expires_at = MAX(blobs.expires_at, excluded.expires_at)`,
        )
        .bind(hash, size, owner, now, now + HOSTED_LIMITS.blobGraceMs, ip ?? ''),
      // Counted once, when this statement made the row.
      db
        .prepare(
          "UPDATE usage_totals SET bytes = bytes + ?1, items = items + 1 WHERE scope = 'blobs' AND EXISTS (SELECT 1 FROM blobs WHERE hash = ?2 AND created_at = ?3 AND owner = ?4)",
        )
        .bind(size, hash, now, owner),
    ]);
  },
};
