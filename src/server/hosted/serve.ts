/**
 * Hosted storage as rooms read it (room/storage.ts): entries of live leases
 * and blobs in R2, for the blobs service (`iwant`, `getblob`, `get_feed`)
 * and head tracking (`get_heads`). Anyone may read them; everything is named
 * by its hash.
 *
 * D1 is shared by every room, so each call is one round trip whatever the
 * number of items: lists travel as one JSON array parameter (json_each), and
 * a call's statements go in one batch. Each adds what it cost to the
 * caller's HostedCost.
 */
import { LIMITS, utf8, type Hash, type HeadRank, type Identity } from '../../protocol/index.ts';
import type { Env } from '../env.ts';
import type { FeedRun, HostedCost, HostedStorage, StoredBlob } from '../room/storage.ts';
import { blobKey } from './blobstore.ts';
import { HOSTED_LIMITS } from './limits.ts';

/** Adds one round trip and its rows read to `cost`. */
function charge(cost: HostedCost | undefined, ...results: (D1Result | undefined)[]): void {
  if (!cost) return;
  cost.queries += 1;
  for (const r of results) cost.rows += r?.meta.rows_read ?? 0;
}

/** Sizes of the `hashes` held as leased entries (of live leases) or as R2 blobs. */
async function sizes(db: D1Database, hashes: readonly Hash[], cost?: HostedCost, now = Date.now()): Promise<Map<Hash, number>> {
  const out = new Map<Hash, number>();
  if (hashes.length === 0) return out;
  const list = JSON.stringify(hashes);
  const [entries, blobs] = await db.batch<{ hash: Hash; size: number }>([
    db
      .prepare(
        `SELECT e.hash AS hash, e.size AS size FROM leased_entries e JOIN leases l ON l.identity = e.identity
         WHERE e.hash IN (SELECT value FROM json_each(?1)) AND e.pull IS NULL AND l.expires_at > ?2`,
      )
      .bind(list, now),
    db.prepare('SELECT hash, size FROM blobs WHERE hash IN (SELECT value FROM json_each(?1))').bind(list),
  ]);
  charge(cost, entries, blobs);
  for (const r of [...(entries?.results ?? []), ...(blobs?.results ?? [])]) out.set(r.hash, r.size);
  return out;
}

/** A leased entry of a live lease, else an R2 blob. */
async function blob(env: Env, hash: Hash, cost?: HostedCost, now = Date.now()): Promise<StoredBlob | null> {
  const db = env.DB;
  const [leased, stored] = await db.batch<{ text?: string; size?: number }>([
    db
      .prepare(
        `SELECT e.text AS text FROM leased_entries e JOIN leases l ON l.identity = e.identity
         WHERE e.hash = ? AND e.pull IS NULL AND l.expires_at > ?`,
      )
      .bind(hash, now),
    db.prepare('SELECT size FROM blobs WHERE hash = ?').bind(hash),
  ]);
  charge(cost, leased, stored);
  const text = leased?.results[0]?.text;
  if (text !== undefined) {
    const bytes = utf8(text);
    return { size: bytes.length, read: async () => [bytes] };
  }
  const size = stored?.results[0]?.size;
  if (size === undefined) return null;
  return {
    size,
    ...(size > HOSTED_LIMITS.roomBlobBytes && {
      refusal: `${hash} is ${size} bytes; over a room socket this server sends at most ${HOSTED_LIMITS.roomBlobBytes}: GET /api/blobs/${encodeURIComponent(hash)} instead`,
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
async function leasedHeads(
  db: D1Database,
  identities: readonly Identity[],
  cost?: HostedCost,
  now = Date.now(),
): Promise<Map<Identity, HeadRank>> {
  const out = new Map<Identity, HeadRank>();
  if (identities.length === 0) return out;
  const rows = await db
    .prepare('SELECT identity, head AS hash, comparable FROM leases WHERE identity IN (SELECT value FROM json_each(?)) AND expires_at > ?')
    .bind(JSON.stringify(identities), now)
    .all<HeadRank & { identity: Identity }>();
  charge(cost, rows);
  for (const r of rows.results) out.set(r.identity, { hash: r.hash, comparable: r.comparable });
  return out;
}

/** A leased feed from `from` through parents, stopping before `known`, at a root, at `limit`, or past a frame's bytes. */
async function leasedFeed(
  db: D1Database,
  { identity, from, known, limit }: { identity: Identity; from: Hash; known: Hash | null; limit: number },
  cost?: HostedCost,
  now = Date.now(),
): Promise<FeedRun> {
  const [lease, walk] = await db.batch<{ head?: Hash; text?: string }>([
    db.prepare('SELECT head FROM leases WHERE identity = ? AND expires_at > ?').bind(identity, now),
    db
      .prepare(
        `WITH RECURSIVE walk(hash, parent, text, size, n, bytes) AS (
           SELECT hash, parent, text, size, 1, size FROM leased_entries WHERE hash = ?1 AND identity = ?2 AND pull IS NULL AND ?1 IS NOT ?5
           UNION ALL
           SELECT e.hash, e.parent, e.text, e.size, walk.n + 1, walk.bytes + e.size FROM leased_entries e JOIN walk ON e.hash = walk.parent
           WHERE walk.n < ?3 AND walk.bytes < ?4 AND e.identity = ?2 AND e.pull IS NULL AND (?5 IS NULL OR e.hash != ?5)
         ) SELECT text FROM walk ORDER BY n`,
      )
      .bind(from, identity, limit, LIMITS.frameBytes, known),
  ]);
  charge(cost, lease, walk);
  if (!lease?.results[0]) return { status: 'no_lease' };
  if (from === known) return { status: 'ok', entries: [] };
  const entries = (walk?.results ?? []).map((r) => r.text as string);
  if (entries.length === 0) return { status: 'not_held' };
  return { status: 'ok', entries };
}

/** What the room reads from hosted storage, over this deployment's bindings. */
export function hostedStorage(env: Env): HostedStorage {
  return {
    sizes: (hashes, cost) => sizes(env.DB, hashes, cost),
    blob: (hash, cost) => blob(env, hash, cost),
    leasedHeads: (identities, cost) => leasedHeads(env.DB, identities, cost),
    leasedFeed: (request, cost) => leasedFeed(env.DB, request, cost),
  };
}
