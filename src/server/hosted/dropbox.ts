/**
 * The dropbox service (docs/hosted.md, docs/protocol.md §13.3): entries left
 * in D1 for an identity (or a synod) that is not here, collected when it
 * connects.
 *
 *   sender → room: drop {target, sender, entry}           → ok | error
 *   room → X (on join, and when a drop for X arrives): drops {drops: [{hash, target, sender, size, expires}]}
 *   X → room: fetch_drops {hashes}                          → drop_delivery {drops: [{hash, target, entry}]}
 *   X → room: drop_ack {hashes}                             → ok   (the rows are deleted)
 *
 * X collects drops whose target is X or X's synod (synods.ts). A drop is
 * named by its entry's hash: the same drop twice is stored once. Only an
 * acknowledged drop is deleted, so delivery is at least once; the rest wait
 * until they expire (DROPBOX_TTL_DAYS) and the scheduled cleanup removes them.
 */
import { encodeWire, LIMITS, openEntry, packFrame, type Entry, type Hash, type Identity, type WireOf } from '../../protocol/index.ts';
import type { Conn } from '../room/conn.ts';
import type { RoomApi, RoomService } from '../room/service.ts';
import { chunks, placeholders } from './d1.ts';
import { dropTtlMs, HOSTED_LIMITS } from './limits.ts';
import { isMember, synodOf } from './synods.ts';

type Notice = WireOf<'drops'>['drops'][number];
type Delivered = WireOf<'drop_delivery'>['drops'][number];

interface DropRow {
  hash: Hash;
  target: Identity;
  sender: Identity;
  size: number;
  expires_at: number;
}

const notice = (r: DropRow): Notice => ({ hash: r.hash, target: r.target, sender: r.sender, size: r.size, expires: r.expires_at });

/** The targets whose drops `identity` may collect: itself, and its synod. */
export async function collectable(room: RoomApi, identity: Identity, now = Date.now()): Promise<Identity[]> {
  const synod = await synodOf(room, identity, now);
  return synod ? [identity, synod] : [identity];
}

function sendNotices(room: RoomApi, conn: Conn, rows: readonly DropRow[]): void {
  for (let i = 0; i < rows.length; i += LIMITS.dropNotices) {
    room.send(conn, { type: 'drops', drops: rows.slice(i, i + LIMITS.dropNotices).map(notice) });
  }
}

/** Tells a socket of every drop waiting for it. */
export async function announceDrops(room: RoomApi, conn: Conn): Promise<void> {
  const now = Date.now();
  const targets = await collectable(room, conn.identity, now);
  const rows = await room.bindings.DB.prepare(
    `SELECT hash, target, sender, size, expires_at FROM drops
     WHERE target IN (${placeholders(targets.length)}) AND expires_at > ? ORDER BY created_at, hash LIMIT ?`,
  )
    .bind(...targets, now, HOSTED_LIMITS.noticesPerJoin)
    .all<DropRow>();
  if (rows.results.length > 0) sendNotices(room, conn, rows.results);
}

/** Which limit a refused drop hit, for the error message. */
async function quotaMessage(db: D1Database, target: Identity, sender: Identity, size: number, now: number): Promise<string> {
  const use = async (column: 'target' | 'sender', who: Identity) =>
    (await db
      .prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM drops WHERE ${column} = ? AND expires_at > ?`)
      .bind(who, now)
      .first<{ n: number; bytes: number }>()) ?? { n: 0, bytes: 0 };
  const t = await use('target', target);
  const s = await use('sender', sender);
  const L = HOSTED_LIMITS;
  if (t.n >= L.dropsPerTarget) return `${target} already has ${t.n} drops waiting (the limit is ${L.dropsPerTarget})`;
  if (t.bytes + size > L.dropBytesPerTarget)
    return `${target} already has ${t.bytes} bytes of drops waiting; ${size} more would pass ${L.dropBytesPerTarget}`;
  if (s.n >= L.dropsPerSender) return `${sender} already has ${s.n} drops waiting here (the limit is ${L.dropsPerSender})`;
  if (s.bytes + size > L.dropBytesPerSender)
    return `${sender} already has ${s.bytes} bytes of drops waiting here; ${size} more would pass ${L.dropBytesPerSender}`;
  return 'the dropbox is full for this sender or target; try again later';
}

/**
 * Sends a notice of a new drop to the sockets at this shard that may collect
 * it: the target's, and those of present identities whose tracked head claims
 * the target as their synod (and are members by §4 of docs/hosted.md). Every
 * shard runs it for its own sockets (RoomApi.dropArrived). The claim is read
 * from this shard's own heads (a present identity is homed here), so a drop
 * costs no D1 query per present identity.
 */
export async function notifyPresent(room: RoomApi, drop: Notice, now = Date.now()): Promise<void> {
  const frame: WireOf<'drops'> = { type: 'drops', drops: [drop] };
  for (const peer of room.presence.peers()) {
    const match =
      peer.identity === drop.target ||
      ((await room.heads.get(peer.identity))?.synod === drop.target && (await isMember(room, drop.target, peer.identity, now)));
    if (!match) continue;
    for (const conn of room.presence.socketsOf(peer.identity)) room.send(conn, frame);
  }
}

async function onDrop(room: RoomApi, conn: Conn, msg: WireOf<'drop'>): Promise<void> {
  const opened = await openEntry(msg.entry, { identity: msg.sender });
  if (!opened.ok) {
    room.fail(
      conn,
      'bad_entry',
      `the dropped entry is not a valid entry of ${msg.sender}: ${opened.error.code}: ${opened.error.message}`,
      msg.id,
    );
    return;
  }
  const entry = opened.value;
  const db = room.bindings.DB;
  const now = Date.now();
  const expires = now + dropTtlMs(room.bindings.DROPBOX_TTL_DAYS);
  // An expired copy not yet swept does not count as held: the drop starts afresh.
  const [, held] = await db.batch<{ target: Identity }>([
    db.prepare('DELETE FROM drops WHERE hash = ? AND expires_at <= ?').bind(entry.hash, now),
    db.prepare('SELECT target FROM drops WHERE hash = ?').bind(entry.hash),
  ]);
  let holder = held?.results[0];
  if (!holder) {
    if (await insertDrop(db, entry, msg, expires, now)) {
      room.reply(conn, msg, { type: 'ok' });
      await room.dropArrived(notice({ hash: entry.hash, target: msg.target, sender: msg.sender, size: entry.size, expires_at: expires }));
      return;
    }
    // Not inserted: a quota is full, or the same drop raced in.
    holder = (await db.prepare('SELECT target FROM drops WHERE hash = ?').bind(entry.hash).first<{ target: Identity }>()) ?? undefined;
    if (!holder) {
      room.fail(conn, 'quota', await quotaMessage(db, msg.target, msg.sender, entry.size, now), msg.id);
      return;
    }
  }
  if (holder.target === msg.target) {
    room.reply(conn, msg, { type: 'ok' });
    return;
  }
  room.fail(
    conn,
    'forbidden',
    `${entry.hash} is already held here for ${holder.target}: a drop has one target; sign a new entry for ${msg.target}`,
    msg.id,
  );
}

/** Stores a drop if every quota allows it, in one statement so concurrent drops cannot overshoot them. Answers whether it did. */
async function insertDrop(db: D1Database, entry: Entry, msg: WireOf<'drop'>, expires: number, now: number): Promise<boolean> {
  const L = HOSTED_LIMITS;
  const res = await db
    .prepare(
      `INSERT OR IGNORE INTO drops (hash, target, sender, entry, size, created_at, expires_at)
       SELECT ?, ?, ?, ?, ?, ?, ?
       WHERE (SELECT COUNT(*) FROM drops WHERE target = ? AND expires_at > ?) < ?
         AND (SELECT COALESCE(SUM(size), 0) FROM drops WHERE target = ? AND expires_at > ?) + ? <= ?
         AND (SELECT COUNT(*) FROM drops WHERE sender = ? AND expires_at > ?) < ?
         AND (SELECT COALESCE(SUM(size), 0) FROM drops WHERE sender = ? AND expires_at > ?) + ? <= ?`,
    )
    .bind(
      entry.hash,
      msg.target,
      msg.sender,
      entry.text,
      entry.size,
      now,
      expires,
      msg.target,
      now,
      L.dropsPerTarget,
      msg.target,
      now,
      entry.size,
      L.dropBytesPerTarget,
      msg.sender,
      now,
      L.dropsPerSender,
      msg.sender,
      now,
      entry.size,
      L.dropBytesPerSender,
    )
    .run();
  return (res.meta.changes ?? 0) === 1;
}

async function onFetch(room: RoomApi, conn: Conn, msg: WireOf<'fetch_drops'>): Promise<void> {
  const now = Date.now();
  const targets = await collectable(room, conn.identity, now);
  const wanted = [...new Set(msg.hashes)];
  const found = new Map<string, Delivered>();
  for (const part of chunks(wanted, targets.length + 1)) {
    const rows = await room.bindings.DB.prepare(
      `SELECT hash, target, entry FROM drops
       WHERE hash IN (${placeholders(part.length)}) AND target IN (${placeholders(targets.length)}) AND expires_at > ?`,
    )
      .bind(...part, ...targets, now)
      .all<Delivered>();
    for (const r of rows.results) found.set(r.hash, r);
  }
  // One frame, in the order asked: what does not fit is left for the next fetch_drops (§13.1 rule 8).
  const drops = packFrame(wanted.flatMap((hash) => found.get(hash) ?? []));
  const frame: WireOf<'drop_delivery'> = { type: 'drop_delivery', drops };
  // A drop is at most 15 KiB, so one always fits; this throws rather than send a frame the peer would refuse.
  encodeWire(msg.id ? { ...frame, re: msg.id } : frame);
  room.reply(conn, msg, frame);
}

async function onAck(room: RoomApi, conn: Conn, msg: WireOf<'drop_ack'>): Promise<void> {
  const targets = await collectable(room, conn.identity);
  const db = room.bindings.DB;
  const hashes = [...new Set(msg.hashes)];
  const statements = chunks(hashes, targets.length).map((part) =>
    db
      .prepare(`DELETE FROM drops WHERE hash IN (${placeholders(part.length)}) AND target IN (${placeholders(targets.length)})`)
      .bind(...part, ...targets),
  );
  if (statements.length > 0) await db.batch(statements);
  if (msg.id) room.reply(conn, msg, { type: 'ok' });
}

export const dropbox: RoomService = {
  name: 'dropbox',
  offer: 'default',
  onJoin(room, conn) {
    void announceDrops(room, conn).catch((err: unknown) => console.error('dropbox: announcing drops failed', err));
  },
  handlers: {
    drop: onDrop,
    fetch_drops: onFetch,
    drop_ack: onAck,
  },
};
