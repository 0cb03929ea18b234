/**
 * Hosted storage as rooms read it (room/storage.ts): entries of live leases
 * and blobs in R2, for the blobs service (`iwant`, `getblob`, `get_feed`)
 * and head tracking (`get_heads`). Anyone may read them; everything is named
 * by its hash.
 */
import { LIMITS, utf8, type Hash, type HeadRank, type Identity } from '../../protocol/index.ts';
import type { Env } from '../env.ts';
import type { FeedRun, HostedStorage, StoredBlob } from '../room/storage.ts';
import { blobKey } from './blobstore.ts';
import { chunks, placeholders } from './d1.ts';
import { HOSTED_LIMITS } from './limits.ts';

/** Sizes of the `hashes` held as leased entries (of live leases) or as R2 blobs. */
async function sizes(db: D1Database, hashes: readonly Hash[], now = Date.now()): Promise<Map<Hash, number>> {
  const out = new Map<Hash, number>();
  for (const part of chunks(hashes, 1)) {
    const list = placeholders(part.length);
    const [entries, blobs] = await db.batch<{ hash: Hash; size: number }>([
      db
        .prepare(
          `SELECT e.hash AS hash, e.size AS size FROM leased_entries e JOIN leases l ON l.identity = e.identity
           WHERE e.hash IN (${list}) AND e.pull IS NULL AND l.expires_at > ?`,
        )
        .bind(...part, now),
      db.prepare(`SELECT hash, size FROM blobs WHERE hash IN (${list})`).bind(...part),
    ]);
    for (const r of [...(entries?.results ?? []), ...(blobs?.results ?? [])]) out.set(r.hash, r.size);
  }
  return out;
}

/** A leased entry of a live lease, else an R2 blob. */
async function blob(env: Env, hash: Hash, now = Date.now()): Promise<StoredBlob | null> {
  const entry = await env.DB.prepare(
    `SELECT e.text AS text FROM leased_entries e JOIN leases l ON l.identity = e.identity
     WHERE e.hash = ? AND e.pull IS NULL AND l.expires_at > ?`,
  )
    .bind(hash, now)
    .first<{ text: string }>();
  if (entry) {
    const bytes = utf8(entry.text);
    return { size: bytes.length, read: async () => [bytes] };
  }
  const row = await env.DB.prepare('SELECT size FROM blobs WHERE hash = ?').bind(hash).first<{ size: number }>();
  if (!row) return null;
  return {
    size: row.size,
    ...(row.size > HOSTED_LIMITS.roomBlobBytes && {
      refusal: `${hash} is ${row.size} bytes; over a room socket this server sends at most ${HOSTED_LIMITS.roomBlobBytes}: GET /api/blobs/${encodeURIComponent(hash)} instead`,
    }),
    async read() {
      const object = await env.BLOBS.get(blobKey(hash));
      return object ? pieces(object.body) : null;
    },
  };
}

async function* pieces(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** Heads of live leases among `identities`. */
async function leasedHeads(db: D1Database, identities: readonly Identity[], now = Date.now()): Promise<Map<Identity, HeadRank>> {
  const out = new Map<Identity, HeadRank>();
  for (const part of chunks(identities, 1)) {
    const rows = await db
      .prepare(`SELECT identity, head AS hash, comparable FROM leases WHERE identity IN (${placeholders(part.length)}) AND expires_at > ?`)
      .bind(...part, now)
      .all<HeadRank & { identity: Identity }>();
    for (const r of rows.results) out.set(r.identity, { hash: r.hash, comparable: r.comparable });
  }
  return out;
}

/** A leased feed from `from` through parents, stopping before `known`, at a root, at `limit`, or past a frame's bytes. */
async function leasedFeed(
  db: D1Database,
  { identity, from, known, limit }: { identity: Identity; from: Hash; known: Hash | null; limit: number },
  now = Date.now(),
): Promise<FeedRun> {
  const lease = await db
    .prepare('SELECT head FROM leases WHERE identity = ? AND expires_at > ?')
    .bind(identity, now)
    .first<{ head: Hash }>();
  if (!lease) return { status: 'no_lease' };
  if (from === known) return { status: 'ok', entries: [] };
  const rows = await db
    .prepare(
      `WITH RECURSIVE walk(hash, parent, text, size, n, bytes) AS (
         SELECT hash, parent, text, size, 1, size FROM leased_entries WHERE hash = ?1 AND identity = ?2 AND pull IS NULL
         UNION ALL
         SELECT e.hash, e.parent, e.text, e.size, walk.n + 1, walk.bytes + e.size FROM leased_entries e JOIN walk ON e.hash = walk.parent
         WHERE walk.n < ?3 AND walk.bytes < ?4 AND e.identity = ?2 AND e.pull IS NULL AND (?5 IS NULL OR e.hash != ?5)
       ) SELECT text FROM walk ORDER BY n`,
    )
    .bind(from, identity, limit, LIMITS.frameBytes, known)
    .all<{ text: string }>();
  if (rows.results.length === 0) return { status: 'not_held' };
  return { status: 'ok', entries: rows.results.map((r) => r.text) };
}

/** What the room reads from hosted storage, over this deployment's bindings. */
export function hostedStorage(env: Env): HostedStorage {
  return {
    sizes: (hashes) => sizes(env.DB, hashes),
    blob: (hash) => blob(env, hash),
    leasedHeads: (identities) => leasedHeads(env.DB, identities),
    leasedFeed: (request) => leasedFeed(env.DB, request),
  };
}
