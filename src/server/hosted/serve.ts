/**
 * What the room serves from hosted storage, for blobs.ts (`iwant`,
 * `getblob`, `get_feed`) and heads.ts (`get_heads`): entries of live leases
 * and blobs in R2. Anyone may read them; everything is named by its hash.
 */
import { LIMITS, packFrame, toBase64url, utf8, type Hash, type Identity, type WireOf } from '../../protocol/index.ts';
import type { Conn } from '../room/conn.ts';
import type { RoomApi } from '../room/service.ts';
import { blobKey } from './blobstore.ts';
import { chunks, placeholders } from './d1.ts';
import { HOSTED_LIMITS } from './limits.ts';

/** Sizes of the `hashes` held as leased entries (of live leases) or as R2 blobs. */
export async function hostedSizes(db: D1Database, hashes: readonly Hash[], now = Date.now()): Promise<Map<Hash, number>> {
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

/** The text of a leased entry of a live lease. */
export async function leasedEntryText(db: D1Database, hash: Hash, now = Date.now()): Promise<string | null> {
  const row = await db
    .prepare(
      `SELECT e.text AS text FROM leased_entries e JOIN leases l ON l.identity = e.identity
       WHERE e.hash = ? AND e.pull IS NULL AND l.expires_at > ?`,
    )
    .bind(hash, now)
    .first<{ text: string }>();
  return row?.text ?? null;
}

/**
 * Answers a `getblob` from hosted storage. Answers false when nothing here
 * holds the hash (the caller reports not_found); otherwise it has sent the
 * `blob` chunks or an error.
 */
export async function serveHostedBlob(room: RoomApi, conn: Conn, msg: WireOf<'getblob'>): Promise<boolean> {
  const re = msg.id ? { re: msg.id } : {};
  const db = room.bindings.DB;
  const text = await leasedEntryText(db, msg.hash);
  if (text !== null) {
    const bytes = utf8(text);
    if (bytes.length > msg.maxsize) {
      room.fail(conn, 'too_big', `${msg.hash} is ${bytes.length} bytes, more than maxsize ${msg.maxsize}`, msg.id);
    } else {
      room.send(conn, { type: 'blob', ...re, hash: msg.hash, offset: 0, total: bytes.length, data: toBase64url(bytes) });
    }
    return true;
  }
  const row = await db.prepare('SELECT size FROM blobs WHERE hash = ?').bind(msg.hash).first<{ size: number }>();
  if (!row) return false;
  if (row.size > msg.maxsize) {
    room.fail(conn, 'too_big', `${msg.hash} is ${row.size} bytes, more than maxsize ${msg.maxsize}`, msg.id);
    return true;
  }
  if (row.size > HOSTED_LIMITS.roomBlobBytes) {
    room.fail(
      conn,
      'too_big',
      `${msg.hash} is ${row.size} bytes; over a room socket this server sends at most ${HOSTED_LIMITS.roomBlobBytes}: GET /api/blobs/${encodeURIComponent(msg.hash)} instead`,
      msg.id,
    );
    return true;
  }
  const object = await room.bindings.BLOBS.get(blobKey(msg.hash));
  if (!object) return false;
  const total = object.size;
  const chunk = LIMITS.blobChunkBytes;
  const buffer = new Uint8Array(chunk);
  let fill = 0;
  let offset = 0;
  const flush = () => {
    room.send(conn, { type: 'blob', ...re, hash: msg.hash, offset, total, data: toBase64url(buffer.subarray(0, fill)) });
    offset += fill;
    fill = 0;
  };
  const reader = object.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let from = 0;
    while (from < value.byteLength) {
      const n = Math.min(value.byteLength - from, chunk - fill);
      buffer.set(value.subarray(from, from + n), fill);
      fill += n;
      from += n;
      if (fill === chunk) flush();
    }
  }
  if (fill > 0 || offset === 0) flush();
  return true;
}

export interface LeasedHeadRow {
  identity: Identity;
  /** The lease's head. */
  hash: Hash;
  comparable: number;
}

/** Heads of live leases among `identities`. */
export async function leasedHeads(
  db: D1Database,
  identities: readonly Identity[],
  now = Date.now(),
): Promise<Map<Identity, LeasedHeadRow>> {
  const out = new Map<Identity, LeasedHeadRow>();
  for (const part of chunks(identities, 1)) {
    const rows = await db
      .prepare(`SELECT identity, head AS hash, comparable FROM leases WHERE identity IN (${placeholders(part.length)}) AND expires_at > ?`)
      .bind(...part, now)
      .all<LeasedHeadRow>();
    for (const r of rows.results) out.set(r.identity, r);
  }
  return out;
}

/** Serves a leased feed: from `from` through parents, stopping before `known`, at a root, at `limit`, or at a full frame. */
export async function serveLeasedFeed(room: RoomApi, conn: Conn, msg: WireOf<'get_feed'>): Promise<void> {
  const re = msg.id ? { re: msg.id } : {};
  const now = Date.now();
  const db = room.bindings.DB;
  const lease = await db
    .prepare('SELECT head FROM leases WHERE identity = ? AND expires_at > ?')
    .bind(msg.identity, now)
    .first<{ head: Hash }>();
  if (!lease) {
    room.fail(conn, 'not_found', `this room holds no live lease of ${msg.identity}`, msg.id);
    return;
  }
  if (msg.from === msg.known) {
    room.send(conn, { type: 'entries', ...re, identity: msg.identity, entries: [] });
    return;
  }
  const rows = await db
    .prepare(
      `WITH RECURSIVE walk(hash, parent, text, size, n, bytes) AS (
         SELECT hash, parent, text, size, 1, size FROM leased_entries WHERE hash = ?1 AND identity = ?2 AND pull IS NULL
         UNION ALL
         SELECT e.hash, e.parent, e.text, e.size, walk.n + 1, walk.bytes + e.size FROM leased_entries e JOIN walk ON e.hash = walk.parent
         WHERE walk.n < ?3 AND walk.bytes < ?4 AND e.identity = ?2 AND e.pull IS NULL AND (?5 IS NULL OR e.hash != ?5)
       ) SELECT text FROM walk ORDER BY n`,
    )
    .bind(msg.from, msg.identity, msg.limit, LIMITS.frameBytes, msg.known)
    .all<{ text: string }>();
  if (rows.results.length === 0) {
    room.fail(conn, 'not_found', `${msg.from} is not in the leased feed of ${msg.identity}`, msg.id);
    return;
  }
  const entries = packFrame(rows.results.map((r) => r.text));
  room.send(conn, { type: 'entries', ...re, identity: msg.identity, entries });
}
