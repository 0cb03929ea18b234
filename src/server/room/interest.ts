/**
 * Who wants to hear of whom, and who lets whom (docs/room.md §5), for one
 * shard: the watch list of each socket held here, the allow-list and
 * opt-ins of each identity homed here, and the subscriptions of watchers
 * (anywhere) to identities homed here. Lists may be thousands long, more
 * than a socket attachment holds, so they live in the object's SQLite, one
 * row per list (a delta rewrites one row), and the in-memory indexes are
 * rebuilt from those rows when the object wakes.
 */
import type { Hash, Identity } from '../../protocol/index.ts';
import type { Conn } from './conn.ts';
import { ROOM_LIMITS } from './limits.ts';

/**
 * A change to what a watcher sees of `identity`; versions order the changes
 * made at its home shard. `member`: a device claims the synod `identity`, so
 * whoever watches the synod watches the device too.
 */
export type Change =
  | { kind: 'peer'; identity: Identity; head: Hash | null; version: number }
  | { kind: 'offline'; identity: Identity; version: number }
  | { kind: 'head'; identity: Identity; head: Hash }
  | { kind: 'member'; identity: Identity; device: Identity };

export interface Flags {
  /** Any watcher may see this identity's presence. */
  anyone: boolean;
  /** Identities not on the allow-list may message it. */
  strangers: boolean;
}

const NO_FLAGS: Flags = { anyone: false, strangers: false };

const split = (text: string): Identity[] => (text === '' ? [] : (text.split(',') as Identity[]));

/** One row per list (WITHOUT ROWID: a text key needs no second index, so a write is one row written). */
export function initInterestTables(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS watch_lists (sid TEXT PRIMARY KEY, watcher TEXT NOT NULL, identities TEXT NOT NULL) WITHOUT ROWID');
  sql.exec(
    'CREATE TABLE IF NOT EXISTS allow_lists (identity TEXT PRIMARY KEY, allowed TEXT NOT NULL, anyone INTEGER NOT NULL, strangers INTEGER NOT NULL) WITHOUT ROWID',
  );
  sql.exec('CREATE TABLE IF NOT EXISTS subscriptions (watcher TEXT PRIMARY KEY, identities TEXT NOT NULL) WITHOUT ROWID');
  sql.exec('CREATE TABLE IF NOT EXISTS members (synod TEXT PRIMARY KEY, devices TEXT NOT NULL) WITHOUT ROWID');
}

export class Interest {
  /** Allow-lists of identities homed here. */
  readonly #allows = new Map<Identity, Set<Identity>>();
  readonly #flags = new Map<Identity, Flags>();
  /** Identity homed here → its watchers → the version the subscription was made at. */
  readonly #subscribers = new Map<Identity, Map<Identity, number>>();
  /** Watcher → the identities homed here it subscribes to (one SQLite row each). */
  readonly #subscribed = new Map<Identity, Set<Identity>>();
  readonly #dirty = new Set<Identity>();
  /** Synod homed here → devices whose tracked head claims it, newest last. */
  readonly #members = new Map<Identity, Identity[]>();
  /** Watch-list entries of every socket held here. */
  #watchRows = 0;
  #seq = Date.now() * 1000;

  constructor(private readonly sql: SqlStorage) {}

  /** A fresh version, higher than any this shard gave before (across restarts too: it starts from the clock). */
  version(): number {
    return ++this.#seq;
  }

  // ---- watch lists (per socket) ----

  get watchRows(): number {
    return this.#watchRows;
  }

  /**
   * Applies a watch delta to a socket's list, all or nothing. Answers the
   * identities newly watched and no longer watched, or why nothing changed.
   */
  watch(
    conn: Conn,
    add: readonly Identity[],
    remove: readonly Identity[],
  ): { added: Identity[]; removed: Identity[] } | { refused: 'quota' | 'full' } {
    const removed = remove.filter((i) => conn.watching.has(i));
    const added = [...new Set(add)].filter((i) => i !== conn.identity && !conn.watching.has(i));
    const size = conn.watching.size - removed.length + added.length;
    if (size > ROOM_LIMITS.maxWatch) return { refused: 'quota' };
    if (this.#watchRows - removed.length + added.length > ROOM_LIMITS.maxWatchRows && added.length > 0) return { refused: 'full' };
    for (const i of removed) conn.watching.delete(i);
    for (const i of added) conn.watching.set(i, 0);
    this.#watchRows += added.length - removed.length;
    if (added.length > 0 || removed.length > 0) this.#saveWatch(conn);
    return { added, removed };
  }

  /**
   * Adds a synod's device to a socket that watches the synod (a watch it did
   * not send itself), within twice the list's limit. Answers whether it was added.
   */
  imply(conn: Conn, device: Identity): boolean {
    if (device === conn.identity || conn.watching.has(device) || conn.watching.size >= 2 * ROOM_LIMITS.maxWatch) return false;
    conn.watching.set(device, 0);
    this.#watchRows++;
    this.#saveWatch(conn);
    return true;
  }

  /** A socket left: its list is dropped. Answers what it watched. */
  forgetSocket(conn: Conn): Identity[] {
    const watched = [...conn.watching.keys()];
    this.#watchRows -= watched.length;
    conn.watching.clear();
    if (conn.att.sid) this.sql.exec('DELETE FROM watch_lists WHERE sid = ?', conn.att.sid);
    return watched;
  }

  #saveWatch(conn: Conn): void {
    if (!conn.att.sid) return;
    if (conn.watching.size === 0) this.sql.exec('DELETE FROM watch_lists WHERE sid = ?', conn.att.sid);
    else
      this.sql.exec(
        'INSERT OR REPLACE INTO watch_lists (sid, watcher, identities) VALUES (?, ?, ?)',
        conn.att.sid,
        conn.identity,
        [...conn.watching.keys()].join(','),
      );
  }

  // ---- allow-lists and opt-ins (per identity homed here) ----

  flags(owner: Identity): Flags {
    return this.#flags.get(owner) ?? NO_FLAGS;
  }

  /** Does `owner` let `viewer` see its presence? */
  lets(owner: Identity, viewer: Identity): boolean {
    return owner === viewer || this.flags(owner).anyone || (this.#allows.get(owner)?.has(viewer) ?? false);
  }

  /** Does `owner` take `message_to` from `from`? */
  takesFrom(owner: Identity, from: Identity): boolean {
    return owner === from || this.flags(owner).strangers || (this.#allows.get(owner)?.has(from) ?? false);
  }

  /** Applies an allow delta, all or nothing; answers who was newly allowed and who no longer is. */
  allow(owner: Identity, add: readonly Identity[], remove: readonly Identity[]): { added: Identity[]; removed: Identity[] } | null {
    const list = this.#allows.get(owner) ?? new Set<Identity>();
    const removed = remove.filter((i) => list.has(i));
    const added = [...new Set(add)].filter((i) => !list.has(i));
    if (list.size - removed.length + added.length > ROOM_LIMITS.maxAllow) return null;
    for (const i of removed) list.delete(i);
    for (const i of added) list.add(i);
    this.#allows.set(owner, list);
    if (added.length > 0 || removed.length > 0) this.#saveAllow(owner);
    return { added, removed };
  }

  setFlags(owner: Identity, flags: Flags): void {
    this.#flags.set(owner, { anyone: flags.anyone, strangers: flags.strangers });
    this.#saveAllow(owner);
  }

  /** Identities with an allow-list or opt-ins here. */
  owners(): Identity[] {
    return [...new Set([...this.#allows.keys(), ...this.#flags.keys()])];
  }

  /** The identity's last socket left (or its first arrived): its allow-list and opt-ins end (start empty). */
  forgetIdentity(owner: Identity): void {
    // Rows are in memory whenever they are in SQLite (rebuild loads them all): no write for nothing.
    if (!this.#allows.has(owner) && !this.#flags.has(owner)) return;
    this.#allows.delete(owner);
    this.#flags.delete(owner);
    this.sql.exec('DELETE FROM allow_lists WHERE identity = ?', owner);
  }

  #saveAllow(owner: Identity): void {
    const flags = this.flags(owner);
    this.sql.exec(
      'INSERT OR REPLACE INTO allow_lists (identity, allowed, anyone, strangers) VALUES (?, ?, ?, ?)',
      owner,
      [...(this.#allows.get(owner) ?? [])].join(','),
      flags.anyone ? 1 : 0,
      flags.strangers ? 1 : 0,
    );
  }

  // ---- synods' devices (synods homed here) ----

  membersOf(synod: Identity): readonly Identity[] {
    return this.#members.get(synod) ?? [];
  }

  /** A device claims the synod: answers whether that is news. The oldest claim goes past maxMembers. */
  addMember(synod: Identity, device: Identity): boolean {
    const devices = this.#members.get(synod) ?? [];
    if (devices.includes(device)) return false;
    devices.push(device);
    if (devices.length > ROOM_LIMITS.maxMembers) devices.shift();
    this.#members.set(synod, devices);
    this.sql.exec('INSERT OR REPLACE INTO members (synod, devices) VALUES (?, ?)', synod, devices.join(','));
    return true;
  }

  // ---- subscriptions (of watchers anywhere, to identities homed here) ----

  subscribersOf(identity: Identity): Iterable<Identity> {
    return this.#subscribers.get(identity)?.keys() ?? [];
  }

  subscribe(watcher: Identity, identity: Identity): void {
    let watchers = this.#subscribers.get(identity);
    if (!watchers) this.#subscribers.set(identity, (watchers = new Map()));
    watchers.set(watcher, this.version());
    let mine = this.#subscribed.get(watcher);
    if (!mine) this.#subscribed.set(watcher, (mine = new Set()));
    if (!mine.has(identity)) {
      mine.add(identity);
      this.#dirty.add(watcher);
    }
  }

  /** Drops a subscription; with `before`, only one made before that version (a delivery found no socket of the watcher). */
  unsubscribe(watcher: Identity, identity: Identity, before?: number): void {
    const watchers = this.#subscribers.get(identity);
    const since = watchers?.get(watcher);
    if (since === undefined || (before !== undefined && since > before)) return;
    watchers!.delete(watcher);
    if (watchers!.size === 0) this.#subscribers.delete(identity);
    const mine = this.#subscribed.get(watcher);
    mine?.delete(identity);
    if (mine?.size === 0) this.#subscribed.delete(watcher);
    this.#dirty.add(watcher);
  }

  /** Writes the subscription rows changed since the last call: one row per watcher, whatever the number of changes. */
  persist(): void {
    for (const watcher of this.#dirty) {
      const mine = this.#subscribed.get(watcher);
      if (!mine) this.sql.exec('DELETE FROM subscriptions WHERE watcher = ?', watcher);
      else this.sql.exec('INSERT OR REPLACE INTO subscriptions (watcher, identities) VALUES (?, ?)', watcher, [...mine].join(','));
    }
    this.#dirty.clear();
  }

  // ---- waking ----

  /**
   * Rebuilds the indexes from SQLite after the object woke, for the sockets it
   * still holds. Rows of sockets no longer here are deleted; answers their
   * watch lists, so their subscriptions can be released where they are held.
   */
  rebuild(conns: readonly Conn[]): { watcher: Identity; identities: Identity[] }[] {
    const bySid = new Map(conns.filter((c) => c.att.sid).map((c) => [c.att.sid!, c]));
    const stale: { watcher: Identity; identities: Identity[] }[] = [];
    this.#watchRows = 0;
    for (const row of this.sql.exec<{ sid: string; watcher: string; identities: string }>('SELECT * FROM watch_lists').toArray()) {
      const conn = bySid.get(row.sid);
      const identities = split(row.identities);
      if (!conn) {
        stale.push({ watcher: row.watcher as Identity, identities });
        this.sql.exec('DELETE FROM watch_lists WHERE sid = ?', row.sid);
        continue;
      }
      for (const i of identities) conn.watching.set(i, 0);
      this.#watchRows += identities.length;
    }
    // All of them, also of identities with no socket listed: the event that woke the object may be
    // the close of that identity's last socket, which still needs its allow-list (Watchers.rebuild sweeps later).
    for (const row of this.sql
      .exec<{ identity: string; allowed: string; anyone: number; strangers: number }>('SELECT * FROM allow_lists')
      .toArray()) {
      const owner = row.identity as Identity;
      this.#allows.set(owner, new Set(split(row.allowed)));
      this.#flags.set(owner, { anyone: row.anyone === 1, strangers: row.strangers === 1 });
    }
    for (const row of this.sql.exec<{ synod: string; devices: string }>('SELECT * FROM members').toArray()) {
      this.#members.set(row.synod as Identity, split(row.devices));
    }
    for (const row of this.sql.exec<{ watcher: string; identities: string }>('SELECT * FROM subscriptions').toArray()) {
      const watcher = row.watcher as Identity;
      const mine = new Set(split(row.identities));
      this.#subscribed.set(watcher, mine);
      for (const identity of mine) {
        let watchers = this.#subscribers.get(identity);
        if (!watchers) this.#subscribers.set(identity, (watchers = new Map()));
        watchers.set(watcher, 0);
      }
    }
    return stale;
  }
}
