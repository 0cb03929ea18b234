/**
 * Presence by interest across the shards of a room (docs/room.md §5, §9):
 * who hears of whom, decided at the home shard of the one being watched,
 * where its allow-list is, and carried to the home shard of each watcher.
 *
 * - A socket's watch of X becomes a subscription (watcher identity, X) at
 *   X's home, which answers X's state for that watcher.
 * - A change of X at its home (arrival, new head claim, departure, an
 *   allow-list or opt-in change) goes to every subscriber X lets see it, and
 *   for visibility changes to those it no longer lets.
 * - A head the room accepted goes to the subscribers of its identity whom
 *   the announcing session lets see it.
 * - A device whose tracked head names a synod is a member of it, recorded at
 *   the synod's home: whoever watches the synod watches its devices too (a
 *   follower of an account finds the account's devices).
 * - message_to goes to the target's home, which delivers it only if the
 *   target takes messages from the sender.
 * Changes for watchers homed elsewhere leave every presenceWindowMs, one
 * batch per shard; a delivery that finds no socket of its watcher drops the
 * subscription (a shard that restarted without running its close hooks).
 */
import type { Hash, Identity, WireMessage } from '../../protocol/index.ts';
import { Coalescer } from './coalescer.ts';
import type { Conn } from './conn.ts';
import { Interest, type Change, type Flags } from './interest.ts';
import { ROOM_LIMITS } from './limits.ts';
import type { Presence } from './presence.ts';
import type { Delivery, Op, OpResult, Shards } from './shards.ts';

export type WatchResult = { ok: true } | { ok: false; refused: 'quota' | 'full' };

export class Watchers {
  readonly interest: Interest;
  readonly coalescer: Coalescer;
  /** Version of the latest change of each identity present here. */
  readonly #versions = new Map<Identity, number>();
  /** Deliveries for watchers homed at other shards, until the next tick. */
  #outgoing = new Map<number, { watcher: Identity; change: Change }[]>();
  #remoteTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    sql: SqlStorage,
    private readonly presence: Presence,
    private readonly shards: () => Shards,
    private readonly send: (conn: Conn, message: WireMessage) => void,
    /** The synod the tracked head of an identity homed here claims. */
    private readonly claimOf: (identity: Identity) => Identity | null,
  ) {
    this.interest = new Interest(sql);
    this.coalescer = new Coalescer(send);
  }

  // ---- the watched identity's side (its home shard) ----

  /** A socket of X authenticated: those X lets see it hear of it if X just arrived or came with another head. */
  arrived(conn: Conn, change: { first: boolean; headChanged: boolean }): void {
    // An identity's lists start empty with its first socket (what a shard that restarted kept is dropped).
    if (change.first) this.interest.forgetIdentity(conn.identity);
    if (change.first || change.headChanged) this.#tellPresent(conn.identity);
    const synod = change.first ? this.claimOf(conn.identity) : null;
    if (synod) this.claims(conn.identity, synod);
  }

  /** `device` (present here) claims `synod`: recorded at the synod's home, which tells the synod's watchers. */
  claims(device: Identity, synod: Identity): void {
    if (device !== synod) void this.#op({ op: 'member', synod, device });
  }

  /** X claimed another head with `online`. */
  claimed(identity: Identity): void {
    this.#tellPresent(identity);
  }

  /** A socket left (presence already without it); `last` when it was its identity's last. */
  departed(conn: Conn, last: boolean): void {
    this.coalescer.forget(conn);
    this.#unwatch(conn, this.interest.forgetSocket(conn));
    if (!last) return;
    const identity = conn.identity;
    const version = this.interest.version();
    for (const watcher of this.interest.subscribersOf(identity)) {
      if (this.interest.lets(identity, watcher)) this.#route(watcher, { kind: 'offline', identity, version });
    }
    this.interest.forgetIdentity(identity);
    this.#versions.delete(identity);
  }

  /** An allow delta from X; false when it would pass the limit (nothing changed). */
  allow(identity: Identity, add: readonly Identity[], remove: readonly Identity[]): boolean {
    let ok = true;
    this.#review(identity, [...add, ...remove], () => (ok = this.interest.allow(identity, add, remove) !== null));
    return ok;
  }

  visibility(identity: Identity, flags: Flags): void {
    this.#review(identity, this.interest.subscribersOf(identity), () => this.interest.setFlags(identity, flags));
  }

  /** Runs `change` to X's allow-list or opt-ins, then tells the affected subscribers what they now see. */
  #review(identity: Identity, affected: Iterable<Identity>, change: () => void): void {
    const subscribers = new Set(this.interest.subscribersOf(identity));
    const before = new Map<Identity, boolean>();
    for (const watcher of affected) if (subscribers.has(watcher)) before.set(watcher, this.interest.lets(identity, watcher));
    change();
    if (!this.presence.has(identity)) return;
    let version = 0;
    for (const [watcher, saw] of before) {
      const sees = this.interest.lets(identity, watcher);
      if (sees === saw) continue;
      version ||= this.#bump(identity);
      this.#route(watcher, sees ? this.#peer(identity, version) : { kind: 'offline', identity, version });
    }
  }

  #tellPresent(identity: Identity): void {
    const change = this.#peer(identity, this.#bump(identity));
    for (const watcher of this.interest.subscribersOf(identity)) {
      if (this.interest.lets(identity, watcher)) this.#route(watcher, change);
    }
  }

  /** A head the room accepted for `identity`, announced by `announcer` (homed here): to the subscribers it lets see it. */
  headMoved(announcer: Identity, identity: Identity, head: Hash, subscribers: readonly Identity[]): void {
    for (const watcher of subscribers) {
      if (watcher !== announcer && this.interest.lets(announcer, watcher)) this.#route(watcher, { kind: 'head', identity, head });
    }
  }

  #bump(identity: Identity): number {
    const version = this.interest.version();
    this.#versions.set(identity, version);
    return version;
  }

  #peer(identity: Identity, version: number): Change {
    return { kind: 'peer', identity, head: this.presence.headOf(identity), version };
  }

  /** What `watcher` sees of `identity` (homed here) now, if anything. */
  #snapshot(identity: Identity, watcher: Identity): Change | null {
    if (!this.presence.has(identity) || !this.interest.lets(identity, watcher)) return null;
    return this.#peer(identity, this.#versions.get(identity) ?? this.#bump(identity));
  }

  // ---- the watcher's side (its home shard) ----

  /** A watch delta from a socket: subscriptions made at the watched identities' homes, their answers queued for the socket. */
  async watch(conn: Conn, add: readonly Identity[], remove: readonly Identity[]): Promise<WatchResult> {
    const result = this.interest.watch(conn, add, remove);
    if ('refused' in result) return { ok: false, refused: result.refused };
    this.#unwatch(conn, result.removed);
    await Promise.all(result.added.map((identity) => this.#subscribe(conn.identity, identity)));
    this.interest.persist();
    return { ok: true };
  }

  /** Subscribes at the identity's home; its answer (the state now) goes to the watcher's sockets. */
  async #subscribe(watcher: Identity, identity: Identity): Promise<void> {
    const answer = await this.#op({ op: 'subscribe', watcher, identity });
    if (answer && typeof answer === 'object') this.#receive(watcher, answer);
  }

  /** Releases the subscriptions of `identities` that no other socket of the watcher still needs. */
  #unwatch(conn: Conn, identities: readonly Identity[]): void {
    const watcher = conn.att.identity;
    if (!watcher) return;
    const others = [...this.presence.socketsOf(watcher)].filter((c) => c !== conn);
    for (const identity of identities) {
      if (!others.some((c) => c.watching.has(identity))) void this.#op({ op: 'unsubscribe', watcher, identity });
    }
    this.interest.persist();
  }

  /** A change for `watcher`: queued for each of its sockets that watches the identity and has not heard a newer one. */
  #receive(watcher: Identity, change: Change): boolean {
    const sockets = this.presence.socketsOf(watcher);
    for (const conn of sockets) {
      const heard = conn.watching.get(change.identity);
      if (heard === undefined) continue;
      if (change.kind === 'member') {
        // Watching a synod watches its devices: subscribed like a watch the socket sent.
        if (this.interest.imply(conn, change.device)) void this.#subscribe(watcher, change.device);
        continue;
      }
      if (change.kind !== 'head') {
        if (change.version <= heard) continue;
        conn.watching.set(change.identity, change.version);
      }
      this.coalescer.queue(conn, change);
    }
    return sockets.size > 0;
  }

  // ---- messages ----

  /** message_to from a socket: answers what became of it, or how many sockets it reached (a failed call to another shard counts as refused). */
  async relay(conn: Conn, to: Identity, payload: unknown): Promise<Delivery> {
    if (this.shards().isLocal(to)) return this.#deliverMessage(conn.identity, to, payload, conn);
    const result = await this.#op({ op: 'relay', from: conn.identity, to, payload });
    return typeof result === 'number' || result === 'absent' ? result : 'refused';
  }

  #deliverMessage(from: Identity, to: Identity, payload: unknown, except?: Conn): Delivery {
    if (!this.presence.has(to)) return 'absent';
    if (!this.interest.takesFrom(to, from)) return 'refused';
    let delivered = 0;
    for (const target of this.presence.socketsOf(to)) {
      if (target === except) continue;
      this.send(target, { type: 'message_from', from, payload });
      delivered++;
    }
    // Only the sender's own socket is here: as if absent (its other devices are other identities).
    return delivered > 0 ? delivered : 'absent';
  }

  // ---- between shards ----

  /** Ops from another shard, in order (Room.exchange). */
  exchange(ops: readonly Op[]): OpResult[] {
    const results = ops.map((op) => this.#local(op));
    this.interest.persist();
    return results;
  }

  #local(op: Op): OpResult {
    switch (op.op) {
      case 'subscribe':
        this.interest.subscribe(op.watcher, op.identity);
        for (const device of this.interest.membersOf(op.identity))
          this.#route(op.watcher, { kind: 'member', identity: op.identity, device });
        return this.#snapshot(op.identity, op.watcher);
      case 'member':
        if (this.interest.addMember(op.synod, op.device)) {
          for (const watcher of this.interest.subscribersOf(op.synod)) {
            this.#route(watcher, { kind: 'member', identity: op.synod, device: op.device });
          }
        }
        return null;
      case 'unsubscribe':
        this.interest.unsubscribe(op.watcher, op.identity);
        return null;
      case 'deliver':
        return this.#receive(op.watcher, op.change);
      case 'relay':
        return this.#deliverMessage(op.from, op.to, op.payload);
    }
  }

  /** Runs an op at the home shard of the identity it concerns: here directly, elsewhere over the channel. */
  #op(op: Exclude<Op, { op: 'deliver' }>): Promise<OpResult> {
    const home = this.shards().home(op.op === 'relay' ? op.to : op.op === 'member' ? op.synod : op.identity);
    if (home === this.shards().self) return Promise.resolve(this.#local(op));
    return this.shards()
      .channel(home)
      .send(op)
      .catch((err: unknown) => {
        console.error(`room: ${op.op} at shard ${home} failed`, err);
        return null;
      });
  }

  #route(watcher: Identity, change: Change): void {
    const home = this.shards().home(watcher);
    if (home === this.shards().self) {
      if (!this.#receive(watcher, change) && 'version' in change) this.interest.unsubscribe(watcher, change.identity, change.version);
      return;
    }
    let batch = this.#outgoing.get(home);
    if (!batch) this.#outgoing.set(home, (batch = []));
    batch.push({ watcher, change });
    // Changes for other shards leave every presenceWindowMs, one call per shard; the watcher's
    // shard coalesces them for its sockets, so a storm's long windows are not waited out twice.
    this.#remoteTimer ??= setTimeout(() => this.#flushRemote(), ROOM_LIMITS.presenceWindowMs);
  }

  #flushRemote(): void {
    this.#remoteTimer = null;
    const outgoing = this.#outgoing;
    this.#outgoing = new Map();
    for (const [home, deliveries] of outgoing) {
      const channel = this.shards().channel(home);
      for (const { watcher, change } of deliveries) {
        channel.send({ op: 'deliver', watcher, change }).then(
          (held) => {
            if (held === false && 'version' in change) {
              this.interest.unsubscribe(watcher, change.identity, change.version);
              this.interest.persist();
            }
          },
          (err: unknown) => console.error(`room: delivery to shard ${home} failed`, err),
        );
      }
    }
    this.interest.persist();
  }

  /**
   * After a wake: indexes from SQLite; the subscriptions of sockets gone
   * meanwhile released. Allow-lists of identities with no socket left are
   * swept a moment later, once the event that woke the object (perhaps the
   * close of such a socket, which still needs its allow-list) has run.
   */
  rebuild(conns: readonly Conn[]): void {
    for (const { watcher, identities } of this.interest.rebuild(conns)) {
      const live = [...this.presence.socketsOf(watcher)];
      for (const identity of identities) {
        if (!live.some((c) => c.watching.has(identity))) void this.#op({ op: 'unsubscribe', watcher, identity });
      }
    }
    this.interest.persist();
    if (this.interest.owners().some((owner) => !this.presence.has(owner))) {
      setTimeout(() => {
        for (const owner of this.interest.owners()) if (!this.presence.has(owner)) this.interest.forgetIdentity(owner);
      }, ROOM_LIMITS.sweepDelayMs);
    }
  }
}
