/**
 * Blob references of leased feeds: which R2 blobs a live lease keeps.
 *
 * A leased entry references blobs directly (image.blob, collection.root,
 * identification.avatar); a collection's root is a directory blob (the
 * protocol's Merkle tree), whose items are recorded too once the directory
 * itself is held in R2 — at lease time, or when it is uploaded later. The
 * scheduled cleanup deletes a blob only when its own grace time is over and
 * no live lease references it.
 */
import { parseDirectory, type EntryBody, type Hash, type Identity } from '../../protocol/index.ts';
import type { Env } from '../env.ts';
import { blobKey } from './blobstore.ts';
import { chunks, placeholders } from './d1.ts';
import { HOSTED_LIMITS } from './limits.ts';

export type RefKind = 'file' | 'directory';

export interface Ref {
  entry: Hash;
  hash: Hash;
  kind: RefKind;
}

/** The blobs an entry's payload points at. */
export function directRefs(entry: Hash, body: Pick<EntryBody, 'payload'>): Ref[] {
  const p = body.payload;
  switch (p.type) {
    case 'image':
      return [{ entry, hash: p.blob.hash, kind: 'file' }];
    case 'collection':
      return [{ entry, hash: p.root.hash, kind: 'directory' }];
    case 'identification':
      return p.avatar ? [{ entry, hash: p.avatar.hash, kind: 'file' }] : [];
    default:
      return [];
  }
}

export async function refCount(db: D1Database, identity: string): Promise<number> {
  const row = await db.prepare('SELECT COUNT(*) AS n FROM leased_refs WHERE identity = ?').bind(identity).first<{ n: number }>();
  return row?.n ?? 0;
}

/** Inserts references (duplicates ignored), up to the per-lease bound. Answers how many were offered within the bound. */
export async function recordRefs(db: D1Database, identity: Identity, refs: readonly Ref[]): Promise<number> {
  if (refs.length === 0) return 0;
  const room = HOSTED_LIMITS.refsPerLease - (await refCount(db, identity));
  const take = refs.slice(0, Math.max(0, room));
  const stmt = db.prepare('INSERT OR IGNORE INTO leased_refs (identity, entry, hash, kind) VALUES (?, ?, ?, ?)');
  for (let i = 0; i < take.length; i += 100) {
    await db.batch(take.slice(i, i + 100).map((r) => stmt.bind(identity, r.entry, r.hash, r.kind)));
  }
  return take.length;
}

/**
 * Records the items of directory blobs that live leases reference, for the
 * directories among `hashes` that R2 holds, and recursively for their
 * sub-directories (breadth first, each directory read once, bounded).
 */
export async function expandDirectories(env: Env, hashes: readonly Hash[], now: number): Promise<void> {
  const queue = [...new Set(hashes)];
  const seen = new Set<Hash>(queue);
  let reads = 0;
  while (queue.length > 0 && reads < 64) {
    const dir = queue.shift() as Hash;
    const holders = await env.DB.prepare(
      `SELECT DISTINCT r.identity AS identity, r.entry AS entry FROM leased_refs r JOIN leases l ON l.identity = r.identity
       WHERE r.hash = ? AND r.kind = 'directory' AND l.expires_at > ? LIMIT 100`,
    )
      .bind(dir, now)
      .all<{ identity: Identity; entry: Hash }>();
    if (holders.results.length === 0) continue;
    const head = await env.BLOBS.head(blobKey(dir));
    if (!head || head.size > HOSTED_LIMITS.directoryBytes) continue;
    const object = await env.BLOBS.get(blobKey(dir));
    if (!object) continue;
    reads++;
    const parsed = parseDirectory(new Uint8Array(await object.arrayBuffer()), dir);
    if (!parsed.ok) continue;
    for (const { identity, entry } of holders.results) {
      const refs: Ref[] = parsed.value.items.map((item) => ({ entry, hash: item.blob.hash, kind: item.kind }));
      await recordRefs(env.DB, identity, refs);
    }
    for (const item of parsed.value.items) {
      if (item.kind === 'directory' && !seen.has(item.blob.hash)) {
        seen.add(item.blob.hash);
        queue.push(item.blob.hash);
      }
    }
  }
}

/** Which of `hashes` a live lease references (the rest may go once their grace time is over). */
export async function leasedBlobs(db: D1Database, hashes: readonly string[], now: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (const part of chunks(hashes, 1)) {
    const rows = await db
      .prepare(
        `SELECT DISTINCT r.hash AS hash FROM leased_refs r JOIN leases l ON l.identity = r.identity
         WHERE l.expires_at > ? AND r.hash IN (${placeholders(part.length)})`,
      )
      .bind(now, ...part)
      .all<{ hash: string }>();
    for (const r of rows.results) out.add(r.hash);
  }
  return out;
}
