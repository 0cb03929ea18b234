/**
 * The data-lease service (design: Data Leasing; docs/hosted.md): the room
 * holds an identity's feed for a period and serves it while the owner's
 * devices are offline — the server becomes a pub for that identity.
 *
 *   client → room: call {id, service: "datalease", identity: I, head: H, seconds}
 *   room → client: get_feed {id: q, identity: I, from, known, limit}   (repeated)
 *   client → room: entries {re: q, identity: I, entries}
 *   room → client: lease {re: id, identity: I, head: H, expires}       | error
 *
 * The room pulls the feed from the calling socket, from H down to the root
 * or to the chain it already holds, validating every entry (openEntry with
 * the identity and the expected hash, so each entry is the parent the
 * previous one names) and every link (checkLink: same identity, comparable
 * strictly rising). Entries go to D1 marked with the pull's id as they
 * arrive (memory stays flat); the commit clears the mark, moves the lease to
 * H and prunes what the new chain no longer reaches, in one transaction. So
 * the committed entries of an identity are always exactly the chain from its
 * lease's head to the root, and a failed pull leaves nothing visible.
 *
 * Anyone may read a leased feed: `get_feed`, `iwant` and `getblob` are
 * answered by the blobs service (room/blobs.ts, through serve.ts),
 * `get_heads` by heads.ts with leased heads merged in.
 */
import {
  checkLink,
  LIMITS,
  openEntry,
  type Entry,
  type Hash,
  type Identity,
  type WireErrorCode,
  type WireOf,
} from '../../protocol/index.ts';
import type { Conn } from '../room/conn.ts';
import type { RoomApi, RoomService } from '../room/service.ts';
import { chunks, placeholders } from './d1.ts';
import { HOSTED_LIMITS } from './limits.ts';
import { directRefs, expandDirectories, recordRefs, type Ref } from './refs.ts';
import { mayLease } from './synods.ts';

type EntriesMsg = WireOf<'entries'>;

interface Waiter {
  resolve: (msg: EntriesMsg) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The room's own get_feed requests awaiting `entries`, per socket. */
const waiting = new WeakMap<Conn, Map<string, Waiter>>();
/** Pulls running per socket. */
const running = new WeakMap<Conn, number>();
let sequence = 0;

class PullError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the socket a get_feed and waits for its `entries`. */
function ask(room: RoomApi, conn: Conn, request: Omit<WireOf<'get_feed'>, 'id' | 'type'>): Promise<EntriesMsg> {
  const id = `lease-${(++sequence).toString(36)}`;
  let map = waiting.get(conn);
  if (!map) waiting.set(conn, (map = new Map()));
  const pending = map;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(
        new PullError(
          'unavailable',
          `no entries answered get_feed for ${request.identity} from ${request.from} within ${HOSTED_LIMITS.pullAnswerMs} ms: the calling device must serve its feed (get_feed) to the room`,
        ),
      );
    }, HOSTED_LIMITS.pullAnswerMs);
    pending.set(id, { resolve, reject, timer });
    room.send(conn, { type: 'get_feed', id, ...request });
  });
}

interface StoredLease {
  head: Hash;
  comparable: number;
  entries: number;
  expires_at: number;
}

const insertEntry = (db: D1Database) =>
  db.prepare(
    `INSERT INTO leased_entries (hash, identity, parent, comparable, synod, size, text, stored_at, pull)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (hash) DO UPDATE SET pull = excluded.pull, stored_at = excluded.stored_at`,
  );

/** Committed entries of `identity` among `hashes`. */
async function heldAmong(db: D1Database, identity: Identity, hashes: readonly Hash[]): Promise<Map<Hash, Entry>> {
  const out = new Map<Hash, Entry>();
  for (const part of chunks(hashes, 1)) {
    const rows = await db
      .prepare(`SELECT hash, text FROM leased_entries WHERE identity = ? AND pull IS NULL AND hash IN (${placeholders(part.length)})`)
      .bind(identity, ...part)
      .all<{ hash: Hash; text: string }>();
    for (const r of rows.results) {
      const opened = await openEntry(r.text, { identity, hash: r.hash });
      if (opened.ok) out.set(r.hash, opened.value);
    }
  }
  return out;
}

/**
 * Pulls `identity`'s feed from `head` and commits the lease. Answers the
 * lease's expiry. Throws PullError for the client's faults.
 */
async function takeLease(room: RoomApi, conn: Conn, msg: WireOf<'call'>, pull: string): Promise<number> {
  const db = room.bindings.DB;
  const identity = msg.identity;
  const started = Date.now();
  const expires = started + msg.seconds * 1000;
  const current = await db
    .prepare('SELECT head, comparable, entries, expires_at FROM leases WHERE identity = ?')
    .bind(identity)
    .first<StoredLease>();
  // An expired lease's entries may be going away under the cleanup: start afresh.
  const live = current && current.expires_at > started ? current : null;

  if (live && live.head === msg.head) {
    const res = await db
      .prepare(
        'UPDATE leases SET expires_at = MAX(expires_at, ?), holder = ?, renewed_at = ? WHERE identity = ? AND head = ? AND expires_at > ?',
      )
      .bind(expires, conn.identity, started, identity, msg.head, started)
      .run();
    if ((res.meta.changes ?? 0) === 1) return Math.max(live.expires_at, expires);
  }

  const known = live?.head ?? null;
  let from: Hash = msg.head;
  let previous: Entry | null = null;
  let added = 0;
  let addedBytes = 0;
  let rounds = 0;
  const existing = live?.entries ?? 0;
  const refs: Ref[] = [];
  const directories: Hash[] = [];
  let head: Entry | null = null;

  pulling: for (;;) {
    if (Date.now() - started > HOSTED_LIMITS.pullTotalMs) {
      throw new PullError('unavailable', `the pull of ${identity} took over ${HOSTED_LIMITS.pullTotalMs} ms; call again to continue`);
    }
    if (++rounds > HOSTED_LIMITS.pullBurst) await sleep(HOSTED_LIMITS.pullPaceMs);
    const reply = await ask(room, conn, { identity, from, known, limit: LIMITS.feedBatch });
    if (reply.identity !== identity) throw new PullError('bad_entry', `entries answered for ${reply.identity}, not ${identity}`);
    if (reply.entries.length === 0) {
      throw new PullError('not_found', `the calling device does not hold ${from} of ${identity}`);
    }
    // Validate the batch in order: each entry must be the one its child names.
    const batch: Entry[] = [];
    let expected: Hash | null = from;
    for (const text of reply.entries) {
      if (expected === null) break;
      const opened = await openEntry(text, { identity, hash: expected });
      if (!opened.ok) throw new PullError('bad_entry', `entry ${expected} of ${identity}: ${opened.error.code}: ${opened.error.message}`);
      batch.push(opened.value);
      expected = opened.value.body.parent;
    }
    const last = batch[batch.length - 1] as Entry;
    const held = live
      ? await heldAmong(db, identity, [...batch.map((e) => e.hash), ...(last.body.parent ? [last.body.parent] : [])])
      : new Map<Hash, Entry>();
    const fresh: Entry[] = [];
    let done = false;
    for (const entry of batch) {
      const stop = held.get(entry.hash);
      if (previous) {
        const link = checkLink(previous, stop ?? entry);
        if (!link.ok) throw new PullError('bad_entry', `${link.error.code}: ${link.error.message}`);
      }
      if (stop) {
        // Reached the chain already held; a head that is already held but not the lease's head is an older entry.
        if (!previous) throw new PullError('rollback', `${entry.hash} is an older entry of ${identity} than the leased head ${known}`);
        done = true;
        break;
      }
      if (!previous) {
        if (live && entry.body.comparable < live.comparable) {
          throw new PullError(
            'rollback',
            `the leased head ${live.head} (comparable ${live.comparable}) outranks ${entry.hash} (comparable ${entry.body.comparable})`,
          );
        }
        head = entry;
      }
      fresh.push(entry);
      previous = entry;
      if (entry.body.parent === null) {
        done = true;
        break;
      }
    }
    if (!done && previous && previous.body.parent && held.has(previous.body.parent)) {
      const link = checkLink(previous, held.get(previous.body.parent) as Entry);
      if (!link.ok) throw new PullError('bad_entry', `${link.error.code}: ${link.error.message}`);
      done = true;
    }
    added += fresh.length;
    for (const e of fresh) addedBytes += e.size;
    if (existing + added > HOSTED_LIMITS.entriesPerLease) {
      throw new PullError('quota', `a lease holds at most ${HOSTED_LIMITS.entriesPerLease} entries; ${identity}'s feed has more`);
    }
    if (addedBytes > HOSTED_LIMITS.entryBytesPerLease) {
      throw new PullError(
        'quota',
        `a lease holds at most ${HOSTED_LIMITS.entryBytesPerLease} bytes of entries; ${identity}'s feed has more`,
      );
    }
    const now = Date.now();
    const stmt = insertEntry(db);
    for (let i = 0; i < fresh.length; i += HOSTED_LIMITS.storeBatch) {
      await db.batch(
        fresh
          .slice(i, i + HOSTED_LIMITS.storeBatch)
          .map((e) => stmt.bind(e.hash, identity, e.body.parent, e.body.comparable, e.body.synod?.[0] ?? null, e.size, e.text, now, pull)),
      );
    }
    for (const e of fresh) {
      for (const r of directRefs(e.hash, e.body)) {
        refs.push(r);
        if (r.kind === 'directory') directories.push(r.hash);
      }
    }
    if (done) break pulling;
    from = previous!.body.parent as Hash;
  }

  if (!head) throw new PullError('internal', 'pull ended without a head');
  await recordRefs(db, identity, refs);
  const now = Date.now();
  // One transaction: the pull's entries become the chain, the lease moves to the head, stale entries go.
  const results = await db.batch([
    db.prepare('UPDATE leased_entries SET pull = NULL WHERE identity = ? AND pull = ?').bind(identity, pull),
    db
      .prepare(
        `INSERT INTO leases (identity, head, comparable, entries, bytes, holder, created_at, renewed_at, expires_at)
         VALUES (?, ?, ?, 0, 0, ?, ?, ?, ?)
         ON CONFLICT (identity) DO UPDATE SET head = excluded.head, comparable = excluded.comparable, holder = excluded.holder,
           renewed_at = excluded.renewed_at,
           expires_at = CASE WHEN leases.expires_at > excluded.renewed_at THEN MAX(leases.expires_at, excluded.expires_at) ELSE excluded.expires_at END`,
      )
      .bind(identity, head.hash, head.body.comparable, conn.identity, now, now, expires),
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
  if (directories.length > 0) await expandDirectories(room.bindings, directories, now);
  const row = (results[5]?.results as { expires_at: number }[] | undefined)?.[0];
  return row?.expires_at ?? expires;
}

async function onCall(room: RoomApi, conn: Conn, msg: WireOf<'call'>): Promise<void> {
  const caller = conn.identity;
  const identity = msg.identity;
  const db = room.bindings.DB;
  const now = Date.now();
  if (!(await mayLease(room, caller, identity, now))) {
    room.fail(
      conn,
      'forbidden',
      `${caller} may not lease ${identity}: a session leases its own feed, its synod's, or a device's of its synod (docs/hosted.md)`,
      msg.id,
    );
    return;
  }
  const held = await db
    .prepare('SELECT COUNT(*) AS n FROM leases WHERE holder = ? AND expires_at > ? AND identity != ?')
    .bind(caller, now, identity)
    .first<{ n: number }>();
  if ((held?.n ?? 0) >= HOSTED_LIMITS.leasesPerHolder) {
    room.fail(conn, 'quota', `${caller} holds ${held?.n} leases here, the most one identity may hold`, msg.id);
    return;
  }
  if ((running.get(conn) ?? 0) >= HOSTED_LIMITS.pullsPerSocket) {
    room.fail(
      conn,
      'unavailable',
      `at most ${HOSTED_LIMITS.pullsPerSocket} leases are taken at once per connection; wait for an answer`,
      msg.id,
    );
    return;
  }
  // One pull per identity across every room: a row older than the pull limit is a crashed pull.
  const pull = crypto.randomUUID();
  const claimed = await db
    .prepare(
      `INSERT INTO lease_pulls (identity, pull, started_at) VALUES (?, ?, ?)
       ON CONFLICT (identity) DO UPDATE SET pull = excluded.pull, started_at = excluded.started_at
       WHERE lease_pulls.started_at < ?`,
    )
    .bind(identity, pull, now, now - HOSTED_LIMITS.pullTotalMs)
    .run();
  if ((claimed.meta.changes ?? 0) !== 1) {
    room.fail(conn, 'unavailable', `a lease of ${identity} is being taken right now; call again when it is answered`, msg.id);
    return;
  }
  running.set(conn, (running.get(conn) ?? 0) + 1);
  // Not awaited: the pull needs this socket's next frames (entries), which queue behind this handler.
  void takeLease(room, conn, msg, pull)
    .then(
      (expires) => room.send(conn, { type: 'lease', ...(msg.id ? { re: msg.id } : {}), identity, head: msg.head, expires }),
      (err: unknown) => {
        if (err instanceof PullError) {
          room.fail(conn, err.code, err.message, msg.id);
        } else {
          console.error('datalease: pull failed', err);
          room.fail(conn, 'internal', 'the lease could not be stored', msg.id);
        }
      },
    )
    .finally(async () => {
      running.set(conn, Math.max(0, (running.get(conn) ?? 1) - 1));
      await db
        .prepare('DELETE FROM lease_pulls WHERE identity = ? AND pull = ?')
        .bind(identity, pull)
        .run()
        .catch(() => {});
    });
}

function onEntries(_room: RoomApi, conn: Conn, msg: EntriesMsg): void {
  if (!msg.re) return;
  const map = waiting.get(conn);
  const waiter = map?.get(msg.re);
  if (!waiter || !map) return;
  map.delete(msg.re);
  clearTimeout(waiter.timer);
  waiter.resolve(msg);
}

export const datalease: RoomService = {
  name: 'datalease',
  offer: 'default',
  onLeave(_room, conn) {
    const map = waiting.get(conn);
    if (!map) return;
    for (const [id, waiter] of map) {
      clearTimeout(waiter.timer);
      waiter.reject(new PullError('unavailable', 'the calling device disconnected during the pull'));
      map.delete(id);
    }
  },
  handlers: {
    call: onCall,
    entries: onEntries,
  },
};
