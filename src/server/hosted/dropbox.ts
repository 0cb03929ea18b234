/**
 * The dropbox service (docs/hosted.md §1, docs/protocol.md §13.5): entries
 * left in D1 for an identity (or a synod) that is not here, collected when it
 * connects.
 *
 *   sender → room: drop {target, sender, entry}           → ok | error
 *   room → X (on join, and when a drop for X arrives): drops {drops: [{hash, target, sender, size, expires}]}
 *   X → room: fetch_drops {hashes}                          → drop_delivery {drops: [{hash, target, entry}]}
 *   X → room: drop_ack {hashes}                             → ok   (the rows are deleted)
 *   X → room: drop_clear {target, through}                  → ok   (every drop for target expiring by `through` is deleted)
 *
 * X collects drops whose target is X or the synod X is a proven device of
 * (membership.ts: the synod's signed add_device, never X's own claim). A
 * drop's sender is X, X's synod, or a device of it. A drop is named by its
 * entry's hash: the same drop twice is stored once. Only an acknowledged
 * drop is deleted, so delivery is at least once; the rest wait until they
 * expire (DROPBOX_TTL_DAYS) and the scheduled cleanup removes them.
 */
import { encodeWire, LIMITS, openEntry, packFrame, type Entry, type Hash, type Identity, type WireOf } from '../../protocol/index.ts';
import type { Conn } from '../room/conn.ts';
import type { RoomApi, RoomService } from '../room/service.ts';
import { follows, storeDrop } from './drop-store.ts';
import { decideGrant } from './grants.ts';
import { HOSTED_LIMITS } from './limits.ts';
import { devicesOf, isMember, synodOfConn, UNPROVEN, type Unproven } from './membership.ts';
import { hostedSettings } from './settings.ts';
import { pushForDrop } from '../push/triggers.ts';

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

/** The targets whose drops the socket may collect: its identity, and the synod it is a proven device of. */
async function collectable(room: RoomApi, conn: Conn, pull: boolean): Promise<Identity[] | Unproven> {
  // Read before waiting: the socket may be closed by then (its identity is gone with the session).
  const identity = conn.identity;
  const synod = await synodOfConn(room, conn, pull);
  if (synod === UNPROVEN) return UNPROVEN;
  return synod ? [identity, synod] : [identity];
}

/**
 * Runs `then` with what the socket may collect. When that needs the socket to
 * show its synod's chain first, its answers queue behind this handler: the
 * rest runs outside the socket's queue.
 */
async function withCollectable(
  room: RoomApi,
  conn: Conn,
  msg: { id?: string | undefined },
  then: (targets: Identity[]) => Promise<void>,
): Promise<void> {
  const identity = conn.identity;
  const quick = await collectable(room, conn, false);
  if (quick !== UNPROVEN) return then(quick);
  void collectable(room, conn, true)
    .then((targets) => then(targets === UNPROVEN ? [identity] : targets))
    .catch((err: unknown) => {
      console.error('dropbox: request failed', err);
      room.fail(conn, 'internal', 'internal error', msg.id);
    });
}

function sendNotices(room: RoomApi, conn: Conn, rows: readonly DropRow[]): void {
  for (let i = 0; i < rows.length; i += LIMITS.dropNotices) {
    room.send(conn, { type: 'drops', drops: rows.slice(i, i + LIMITS.dropNotices).map(notice) });
  }
}

/** Tells a socket of every drop waiting for it (asking it to show its synod's chain when it claims one). */
export async function announceDrops(room: RoomApi, conn: Conn): Promise<void> {
  const now = Date.now();
  const targets = await collectable(room, conn, true);
  if (targets === UNPROVEN || conn.closed) return;
  const rows = await room.bindings.DB.prepare(
    `SELECT hash, target, sender, size, expires_at FROM drops
     WHERE target IN (SELECT value FROM json_each(?)) AND expires_at > ? ORDER BY created_at, hash LIMIT ?`,
  )
    .bind(JSON.stringify(targets), now, HOSTED_LIMITS.noticesPerJoin)
    .all<DropRow>();
  if (rows.results.length > 0) sendNotices(room, conn, rows.results);
}

/**
 * Sends a notice of a new drop to the sockets at this shard that may collect
 * it (granted the dropbox): the target's, and those of present identities
 * whose tracked head claims the target as their synod, once each has shown
 * it is a device. Every shard runs it for its own sockets
 * (RoomApi.dropArrived). The claim is read from this shard's own heads (a
 * present identity is homed here), so a drop costs no D1 query per present
 * identity. Answers the identities told (their apps are open: no push for
 * them).
 */
export async function notifyPresent(room: RoomApi, drop: Notice): Promise<Identity[]> {
  const frame: WireOf<'drops'> = { type: 'drops', drops: [drop] };
  const told = new Set<Identity>();
  for (const peer of room.presence.peers()) {
    const own = peer.identity === drop.target;
    if (!own && (await room.heads.get(peer.identity))?.synod !== drop.target) continue;
    for (const conn of room.presence.socketsOf(peer.identity)) {
      if (!conn.att.granted?.includes('dropbox')) continue;
      if (own || (await synodOfConn(room, conn, true)) === drop.target) {
        room.send(conn, frame);
        told.add(conn.identity);
      }
    }
  }
  return [...told];
}

/** May the socket drop an entry signed by `sender`? Itself; its synod; a device of its synod, or of the synod it is. */
async function maySend(room: RoomApi, conn: Conn, sender: Identity): Promise<boolean> {
  const identity = conn.identity;
  const synod = await synodOfConn(room, conn, true);
  if (synod === sender) return true;
  if (synod && synod !== UNPROVEN && (await isMember(room, synod, sender, { pull: false })) === true) return true;
  // The session is a synod, and the sender one of its devices (shown by the synod's own chain).
  if (conn.closed) return false;
  return (await isMember(room, identity, sender, { prover: conn, pull: true })) === true;
}

/** Checks the dropped entry, then who may send it, then stores it. */
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
  // Closed while the entry was checked (found by test/server/room-fuzz.test.ts): no one to answer.
  if (conn.closed) return;
  if (msg.sender === conn.identity) return store(room, conn, msg, opened.value);
  // Whether the session may speak for the sender can need its synod's chain, which queues behind this handler.
  void maySend(room, conn, msg.sender)
    .then((ok) =>
      ok
        ? store(room, conn, msg, opened.value)
        : room.fail(conn, 'forbidden', "a drop's sender is this session's identity, its synod, or a device of its synod", msg.id),
    )
    .catch((err: unknown) => {
      console.error('dropbox: drop failed', err);
      room.fail(conn, 'internal', 'internal error', msg.id);
    });
}

async function store(room: RoomApi, conn: Conn, msg: WireOf<'drop'>, entry: Entry): Promise<void> {
  const db = room.bindings.DB;
  const settings = hostedSettings(room.bindings);
  const now = Date.now();
  const expires = now + settings.DROPBOX_TTL_DAYS * 24 * 3600_000;
  // An expired copy not yet swept does not count as held: the drop starts afresh.
  const [, held] = await db.batch<{ target: Identity }>([
    db.prepare('DELETE FROM drops WHERE hash = ? AND expires_at <= ?').bind(entry.hash, now),
    db.prepare('SELECT target FROM drops WHERE hash = ?').bind(entry.hash),
  ]);
  let holder = held?.results[0];
  if (!holder) {
    const request = { entry, target: msg.target, sender: msg.sender, ip: conn.att.ip ?? null, expires, now };
    const stored = await storeDrop(db, request, settings, async () =>
      follows(db, [msg.target, ...(await devicesOf(room, msg.target, now))], msg.sender, now),
    );
    if (stored.ok) {
      room.reply(conn, msg, { type: 'ok' });
      const drop = notice({ hash: entry.hash, target: msg.target, sender: msg.sender, size: entry.size, expires_at: expires });
      // Devices told at any shard have the app open; the others are woken (src/server/push/triggers.ts).
      // Not awaited: a collector may first have to show its synod's chain, which can queue behind this handler.
      void room
        .dropArrived(drop)
        .catch((err: unknown) => {
          console.error('dropbox: notifying failed', err);
          return [] as Identity[];
        })
        .then((told) => pushForDrop(room.bindings, msg.target, msg.sender, conn.att.ip ?? null, new Set(told)))
        .catch((err: unknown) => console.error('push failed', err));
      return;
    }
    // Not inserted: a budget is full, or the same drop raced in.
    holder = (await db.prepare('SELECT target FROM drops WHERE hash = ?').bind(entry.hash).first<{ target: Identity }>()) ?? undefined;
    if (!holder) {
      room.fail(conn, 'quota', stored.message, msg.id);
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
    'this entry is already held here as a drop for another target: a drop has one target; sign a new entry',
    msg.id,
  );
}

async function onFetch(room: RoomApi, conn: Conn, msg: WireOf<'fetch_drops'>, targets: readonly Identity[]): Promise<void> {
  const wanted = [...new Set(msg.hashes)];
  const rows = await room.bindings.DB.prepare(
    `SELECT hash, target, entry FROM drops
     WHERE hash IN (SELECT value FROM json_each(?1)) AND target IN (SELECT value FROM json_each(?2)) AND expires_at > ?3`,
  )
    .bind(JSON.stringify(wanted), JSON.stringify(targets), Date.now())
    .all<Delivered>();
  const found = new Map(rows.results.map((r) => [r.hash, r]));
  // One frame, in the order asked: what does not fit is left for the next fetch_drops (§13.1 rule 8).
  const drops = packFrame(wanted.flatMap((hash) => found.get(hash) ?? []));
  const frame: WireOf<'drop_delivery'> = { type: 'drop_delivery', drops };
  // A drop is at most 15 KiB, so one always fits; this throws rather than send a frame the peer would refuse.
  encodeWire(msg.id ? { ...frame, re: msg.id } : frame);
  room.reply(conn, msg, frame);
}

async function onAck(room: RoomApi, conn: Conn, msg: WireOf<'drop_ack'>, targets: readonly Identity[]): Promise<void> {
  await room.bindings.DB.prepare(
    'DELETE FROM drops WHERE hash IN (SELECT value FROM json_each(?1)) AND target IN (SELECT value FROM json_each(?2))',
  )
    .bind(JSON.stringify([...new Set(msg.hashes)]), JSON.stringify(targets))
    .run();
  if (msg.id) room.reply(conn, msg, { type: 'ok' });
}

async function onClear(room: RoomApi, conn: Conn, msg: WireOf<'drop_clear'>, targets: readonly Identity[]): Promise<void> {
  if (!targets.includes(msg.target)) {
    room.fail(conn, 'forbidden', 'a session clears only its own dropbox, or its synod’s once it has shown it is a device of it', msg.id);
    return;
  }
  await room.bindings.DB.prepare('DELETE FROM drops WHERE target = ? AND expires_at <= ?').bind(msg.target, msg.through).run();
  room.reply(conn, msg, { type: 'ok' });
}

/** Collecting is on request, by the operator's policy (grants.ts); leaving a drop is open to every socket. */
export const dropbox: RoomService = {
  name: 'dropbox',
  offer: 'on_request',
  open: ['drop'],
  grant: (room, conn, msg) => decideGrant(room, conn, msg, 'dropbox'),
  onJoin(room, conn) {
    void announceDrops(room, conn).catch((err: unknown) => console.error('dropbox: announcing drops failed', err));
  },
  handlers: {
    drop: onDrop,
    fetch_drops: (room, conn, msg) => withCollectable(room, conn, msg, (targets) => onFetch(room, conn, msg, targets)),
    drop_ack: (room, conn, msg) => withCollectable(room, conn, msg, (targets) => onAck(room, conn, msg, targets)),
    drop_clear: (room, conn, msg) => withCollectable(room, conn, msg, (targets) => onClear(room, conn, msg, targets)),
  },
};
