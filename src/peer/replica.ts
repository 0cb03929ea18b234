/**
 * The replica: what this peer holds and believes. It takes validated entries
 * in, decides heads (complete, unbroken chains only), applies synod rules
 * (revoked devices' entries above their cut are refused), and tells the rest
 * of the engine when a head moves. Transports never touch the store directly.
 */
import {
  checkDeviceEntry,
  checkLink,
  compareEntries,
  synodState,
  type Entry,
  type Hash,
  type Identity,
  type ProtocolError,
  type SynodState,
} from '../protocol/index.ts';
import { Emitter } from './events.ts';
import type { Store, StoredHead, WatchReason } from './store.ts';

export interface ReplicaEvents {
  entry: Entry;
  head: StoredHead;
  rejected: { identity: Identity | null; hash: Hash | null; error: ProtocolError; from: string };
  /** An identity newly watched: links ask their peers for it. */
  watch: Identity;
  /** The reasons an identity is watched for changed (none left: no longer watched). */
  reasons: { identity: Identity; reasons: readonly WatchReason[] };
}

export class Replica {
  readonly events = new Emitter<ReplicaEvents>();
  #watch = new Map<Identity, Set<WatchReason>>();
  #blocked = new Set<Identity>();
  #synods = new Map<Identity, SynodState>();
  /** Entries known to sit on a complete, valid chain: walks stop at them. */
  #complete = new Set<Hash>();

  private constructor(readonly store: Store) {}

  static async open(store: Store): Promise<Replica> {
    const r = new Replica(store);
    for (const w of await store.watchList()) r.#watch.set(w.identity, new Set(w.reasons));
    for (const b of (await store.getSetting<Identity[]>('blocked')) ?? []) r.#blocked.add(b);
    for (const head of await store.heads()) r.#complete.add(head.hash);
    // Only feeds that are synods (they hold synod operations, or we watch them as our synod):
    // folding a plain device feed would give it an empty synod state of its own.
    for (const [identity, reasons] of r.#watch) {
      const chain = await r.chain(identity);
      if (reasons.has('synod') || chain.some((e) => e.body.payload.type === 'synod')) await r.#refreshSynod(identity);
    }
    return r;
  }

  // --- watch list and blocks -------------------------------------------

  watched(): Identity[] {
    return [...this.#watch.keys()].filter((i) => !this.#blocked.has(i));
  }
  isWatched(identity: Identity): boolean {
    return this.#watch.has(identity) && !this.#blocked.has(identity);
  }
  reasons(identity: Identity): WatchReason[] {
    return [...(this.#watch.get(identity) ?? [])];
  }
  async watch(identity: Identity, reason: WatchReason): Promise<void> {
    const set = this.#watch.get(identity) ?? new Set();
    if (set.has(reason)) return;
    const isNew = set.size === 0;
    set.add(reason);
    this.#watch.set(identity, set);
    await this.store.setWatch({ identity, reasons: [...set] });
    if (isNew) this.events.emit('watch', identity);
    this.events.emit('reasons', { identity, reasons: [...set] });
  }
  async unwatch(identity: Identity, reason: WatchReason): Promise<void> {
    const set = this.#watch.get(identity);
    if (!set?.delete(reason)) return;
    if (set.size === 0) this.#watch.delete(identity);
    await this.store.setWatch({ identity, reasons: [...set] });
    this.events.emit('reasons', { identity, reasons: [...set] });
  }
  blockedList(): Identity[] {
    return [...this.#blocked];
  }
  isBlocked(identity: Identity): boolean {
    return this.#blocked.has(identity);
  }
  async setBlocked(identity: Identity, blocked: boolean): Promise<void> {
    if (blocked) this.#blocked.add(identity);
    else this.#blocked.delete(identity);
    await this.store.putSetting('blocked', [...this.#blocked]);
  }

  // --- heads and synods -------------------------------------------------

  head(identity: Identity): Promise<StoredHead | undefined> {
    return this.store.getHead(identity);
  }
  synod(identity: Identity): SynodState | undefined {
    return this.#synods.get(identity);
  }

  /** The synod a device's head claims, when that synod lists the device. */
  async synodOfDevice(device: Identity): Promise<{ identity: Identity; state: SynodState } | undefined> {
    const head = await this.store.getHead(device);
    const claimed = head ? (await this.store.getEntry(head.hash))?.body.synod?.[0] : undefined;
    const state = claimed ? this.#synods.get(claimed) : undefined;
    return claimed && state?.devices.has(device) ? { identity: claimed, state } : undefined;
  }

  /** An identity's feed along its head chain, newest first, at most `limit` entries. */
  async feed(identity: Identity, limit: number): Promise<Entry[]> {
    const out: Entry[] = [];
    const head = await this.store.getHead(identity);
    let at = head ? await this.store.getEntry(head.hash) : undefined;
    while (at && out.length < limit) {
      out.push(at);
      at = at.body.parent ? await this.store.getEntry(at.body.parent) : undefined;
    }
    return out;
  }

  /** Root first. */
  async chain(identity: Identity): Promise<Entry[]> {
    const head = await this.store.getHead(identity);
    const out: Entry[] = [];
    let at = head ? await this.store.getEntry(head.hash) : undefined;
    while (at) {
      out.push(at);
      at = at.body.parent ? await this.store.getEntry(at.body.parent) : undefined;
    }
    return out.reverse();
  }

  /**
   * Check that an entry may stand: its synod claim (if we know the synod).
   * Link rules are checked by `accept` between neighbours.
   */
  #admissible(entry: Entry): ProtocolError | null {
    const claim = entry.body.synod;
    if (!claim) return null;
    const state = this.#synods.get(claim[0]);
    if (!state) return null;
    const r = checkDeviceEntry(state, entry);
    return r.ok ? null : r.error;
  }

  /**
   * Store a run of validated entries of one identity, head first, each the
   * parent of the one before. Refuses the whole run at the first entry that
   * breaks a rule, keeping what was stored before it.
   */
  async accept(identity: Identity, run: readonly Entry[], from: string): Promise<ProtocolError | null> {
    for (let i = 0; i < run.length; i++) {
      const entry = run[i] as Entry;
      const parent = run[i + 1];
      const bad =
        (entry.body.identity !== identity ? { code: 'wrong_identity' as const, message: `${entry.hash} is not by ${identity}` } : null) ??
        (parent ? (checkLink(entry, parent).ok ? null : (checkLink(entry, parent) as { error: ProtocolError }).error) : null) ??
        this.#admissible(entry);
      if (bad) {
        this.events.emit('rejected', { identity, hash: entry.hash, error: bad, from });
        return bad;
      }
    }
    // Store oldest first so a crash mid-way leaves ancestors, never dangling children.
    for (let i = run.length - 1; i >= 0; i--) {
      const entry = run[i] as Entry;
      if (await this.store.hasEntry(entry.hash)) continue;
      await this.store.putEntry(entry);
      this.events.emit('entry', entry);
    }
    return null;
  }

  /**
   * Consider `hash` as the identity's head: it becomes the head if its chain
   * is complete and it outranks the current head. Returns the head after.
   */
  async considerHead(identity: Identity, hash: Hash): Promise<StoredHead | undefined> {
    const current = await this.store.getHead(identity);
    if (current?.hash === hash) return current;
    const candidate = await this.store.getEntry(hash);
    if (!candidate || candidate.body.identity !== identity) return current;
    if (current) {
      const currentEntry = await this.store.getEntry(current.hash);
      if (currentEntry && compareEntries(candidate, currentEntry) > 0) return current;
    }
    // Walk down until a known-complete entry or the root; every link was checked on accept.
    const walked: Hash[] = [];
    let synodOps = false;
    let at: Entry | undefined = candidate;
    while (at && !this.#complete.has(at.hash)) {
      walked.push(at.hash);
      synodOps ||= at.body.payload.type === 'synod';
      if (this.#admissible(at)) return current;
      if (at.body.parent === null) break;
      const parent: Entry | undefined = await this.store.getEntry(at.body.parent);
      if (!parent || !checkLink(at, parent).ok) return current;
      at = parent;
    }
    if (!at) return current;
    for (const h of walked) this.#complete.add(h);
    const head: StoredHead = { identity, hash, comparable: candidate.body.comparable };
    await this.store.setHead(head);
    // A feed holding synod operations is a synod: keep its state, whoever watches it and why.
    if (synodOps || this.#synods.has(identity) || this.#watch.get(identity)?.has('synod')) await this.#refreshSynod(identity);
    this.events.emit('head', head);
    return head;
  }

  /** Recompute a synod's state from its chain, and pull back heads of devices revoked since. */
  async #refreshSynod(synod: Identity): Promise<void> {
    const chain = await this.chain(synod);
    if (chain.length === 0) return;
    const state = await synodState(synod, chain);
    if (!state.ok) {
      this.events.emit('rejected', { identity: synod, hash: null, error: state.error, from: 'synod' });
      return;
    }
    this.#synods.set(synod, state.value);
    for (const device of state.value.devices.values()) {
      if (device.cut === null) continue;
      await this.#rollBackRevoked(device.device, device.cut);
    }
  }

  /** A device revoked after we accepted its later entries: its head falls back to the cut. */
  async #rollBackRevoked(device: Identity, cut: number): Promise<void> {
    const head = await this.store.getHead(device);
    if (!head || head.comparable <= cut) return;
    let at = await this.store.getEntry(head.hash);
    while (at && at.body.comparable > cut) {
      this.#complete.delete(at.hash);
      at = at.body.parent ? await this.store.getEntry(at.body.parent) : undefined;
    }
    if (!at) return;
    const fallback: StoredHead = { identity: device, hash: at.hash, comparable: at.body.comparable };
    await this.store.setHead(fallback);
    this.events.emit('head', fallback);
  }

  /** Our own new entry: trusted, already linked to our head. */
  async appendOwn(entry: Entry): Promise<void> {
    await this.store.putEntry(entry);
    this.events.emit('entry', entry);
    await this.considerHead(entry.body.identity, entry.hash);
  }
}
