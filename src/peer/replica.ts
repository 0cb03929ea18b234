/**
 * The replica: what this peer holds and believes. It takes validated entries
 * in, decides heads (complete, unbroken chains only), applies synod rules
 * (revoked devices' entries above their cut are refused), and tells the rest
 * of the engine when a head moves. Transports never touch the store directly.
 *
 * Opening reads the watch list, the heads and the feeds known to be synods
 * (a setting, so other feeds are not read at all); a store written before
 * that setting existed is scanned once to find them.
 */
import {
  checkDeviceEntry,
  compareHeads,
  rankOf,
  synodState,
  type Entry,
  type Hash,
  type Identity,
  type ProtocolError,
  type SynodState,
} from '../protocol/index.ts';
import { Emitter } from './events.ts';
import { descends, linkError, reachesComplete, type WalkState } from './head-walks.ts';
import type { LoggedHead, Store, StoredHead, WatchReason } from './store.ts';

export interface ReplicaEvents {
  entry: Entry;
  /** A head moved; `seq` is its place in the change log. */
  head: LoggedHead;
  rejected: { identity: Identity | null; hash: Hash | null; error: ProtocolError; from: string };
  /** An identity newly watched: links ask their peers for it. */
  watch: Identity;
  /** The reasons an identity is watched for changed (none left: no longer watched). */
  reasons: { identity: Identity; reasons: readonly WatchReason[] };
  /**
   * Two heads of one feed where neither is known to descend from the other:
   * `winner` outranks (§8.2), `loser` is a superseded head or a losing branch
   * (evidence.ts tells a rewrite from an equivocation).
   */
  fork: { identity: Identity; winner: Hash; loser: Hash };
}

/** The setting listing the feeds that hold synod operations. */
const SYNODS = 'synods';

export class Replica {
  readonly events = new Emitter<ReplicaEvents>();
  #watch = new Map<Identity, Set<WatchReason>>();
  #blocked = new Set<Identity>();
  #synods = new Map<Identity, SynodState>();
  /** Feeds holding synod operations: their state is kept, whoever watches them and why. */
  #synodFeeds = new Set<Identity>();
  /** The heads as this replica last wrote or read them. */
  #heads = new Map<Identity, StoredHead>();
  /** Entries known to sit on a complete, valid chain (the heads): walks stop at them. */
  readonly #complete = new Set<Hash>();
  readonly #walkState: WalkState = { complete: this.#complete, refused: (entry) => this.#refused(entry) };

  private constructor(readonly store: Store) {}

  static async open(store: Store): Promise<Replica> {
    const r = new Replica(store);
    const [watch, blocked, heads, synods] = await Promise.all([
      store.watchList(),
      store.getSetting<Identity[]>('blocked'),
      store.heads(),
      store.getSetting<Identity[]>(SYNODS),
    ]);
    for (const w of watch) r.#watch.set(w.identity, new Set(w.reasons));
    for (const b of blocked ?? []) r.#blocked.add(b);
    for (const head of heads) {
      r.#heads.set(head.identity, head);
      r.#complete.add(head.hash);
    }
    if (synods) for (const s of synods) r.#synodFeeds.add(s);
    else {
      // A store from before the setting: find the synod feeds once. Folding a plain device
      // feed would give it an empty synod state of its own, so only feeds with synod operations.
      for (const identity of r.#watch.keys())
        if ((await r.chain(identity)).some((e) => e.body.payload.type === 'synod')) r.#synodFeeds.add(identity);
      await store.putSetting(SYNODS, [...r.#synodFeeds]);
    }
    for (const [identity, reasons] of r.#watch) if (reasons.has('synod')) r.#synodFeeds.add(identity);
    for (const identity of r.#synodFeeds) await r.#refreshSynod(identity);
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

  async head(identity: Identity): Promise<StoredHead | undefined> {
    return this.#heads.get(identity);
  }
  synod(identity: Identity): SynodState | undefined {
    return this.#synods.get(identity);
  }

  /** The synod a device's head claims, when that synod lists the device. */
  async synodOfDevice(device: Identity): Promise<{ identity: Identity; state: SynodState } | undefined> {
    const head = this.#heads.get(device);
    const claimed = head ? (await this.store.getEntry(head.hash))?.body.synod?.[0] : undefined;
    const state = claimed ? this.#synods.get(claimed) : undefined;
    return claimed && state?.devices.has(device) ? { identity: claimed, state } : undefined;
  }

  /** An identity's feed along its head chain, newest first, at most `limit` entries. */
  async feed(identity: Identity, limit: number): Promise<Entry[]> {
    const head = this.#heads.get(identity);
    return head ? this.store.chain(head.hash, { limit, identity }) : [];
  }

  /** Root first. */
  async chain(identity: Identity): Promise<Entry[]> {
    return (await this.feed(identity, Infinity)).reverse();
  }

  /** Newest first across everyone watched, along each head chain. */
  timeline(limit: number): Promise<Entry[]> {
    const heads = this.watched().flatMap((i) => this.#heads.get(i) ?? []);
    return this.store.newest(heads, limit);
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
   * parent of the one before; `above` is the entry the run continues (the
   * last of the run before it, in the same pull), whose link to the run is
   * checked too. Refuses the whole run at the first entry that breaks a
   * rule; the run is written in one go.
   */
  async accept(identity: Identity, run: readonly Entry[], from: string, above?: Entry): Promise<ProtocolError | null> {
    const admitted = this.admit(identity, run, from, above);
    if ('error' in admitted) return admitted.error;
    await admitted.stored;
    return null;
  }

  /**
   * `accept` in two steps: the checks now, the write under way. A puller
   * checks and writes its next run while this one is still being stored
   * (writes to one store keep their order).
   */
  admit(identity: Identity, run: readonly Entry[], from: string, above?: Entry): { error: ProtocolError } | { stored: Promise<void> } {
    for (let i = 0; i < run.length; i++) {
      const entry = run[i] as Entry;
      const child = i === 0 ? above : run[i - 1];
      const bad =
        (entry.body.identity !== identity ? { code: 'wrong_identity' as const, message: `${entry.hash} is not by ${identity}` } : null) ??
        (child ? linkError(child, entry) : null) ??
        this.#admissible(entry);
      if (bad) {
        this.events.emit('rejected', { identity, hash: entry.hash, error: bad, from });
        return { error: bad };
      }
    }
    const stored = this.store.putEntries(run).then(async () => {
      if (run.some((e) => e.body.payload.type === 'synod')) await this.#markSynod(identity);
      for (let i = run.length - 1; i >= 0; i--) this.events.emit('entry', run[i] as Entry);
    });
    return { stored };
  }

  /**
   * Consider `hash` as the identity's head: it becomes the head if its chain
   * is complete and it outranks the current head. Returns the head after.
   * `checkedTo`, when given, is the oldest entry of a chain from `hash` down
   * that `accept` took in one pull, every link checked: the walk for
   * completeness starts there rather than at `hash`.
   */
  async considerHead(identity: Identity, hash: Hash, checkedTo?: Entry): Promise<StoredHead | undefined> {
    const current = await this.store.getHead(identity);
    if (current?.hash === hash) return current;
    const candidate = checkedTo?.hash === hash ? checkedTo : await this.store.getEntry(hash);
    if (!candidate || candidate.body.identity !== identity) return current;
    if (current && compareHeads(rankOf(candidate), current) > 0) {
      this.events.emit('fork', { identity, winner: current.hash, loser: hash });
      return current;
    }
    if (checkedTo && checkedTo.body.identity !== identity) return current;
    const complete = await reachesComplete(this.store, this.#walkState, checkedTo ?? candidate, checkedTo !== undefined);
    if (complete === null) return current;
    const head: LoggedHead = await this.#setHead({ identity, hash, comparable: candidate.body.comparable });
    // Not a step forward from the head we had: the old head is superseded (evidence.ts keeps it).
    if (current && complete.reached !== current.hash && !(await descends(this.store, candidate, current)))
      this.events.emit('fork', { identity, winner: hash, loser: current.hash });
    // A feed holding synod operations is a synod: keep its state, whoever watches it and why.
    if (complete.synodOps) await this.#markSynod(identity);
    if (this.#synodFeeds.has(identity) || this.#watch.get(identity)?.has('synod')) await this.#refreshSynod(identity);
    this.events.emit('head', head);
    return head;
  }

  /** A held entry a synod rule now refuses (a revocation learnt since it was stored): refused as a head, and said so. */
  #refused(entry: Entry): boolean {
    const inadmissible = this.#admissible(entry);
    if (inadmissible) this.events.emit('rejected', { identity: entry.body.identity, hash: entry.hash, error: inadmissible, from: 'head' });
    return inadmissible !== null;
  }

  async #setHead(head: StoredHead): Promise<LoggedHead> {
    const before = this.#heads.get(head.identity);
    if (before) this.#complete.delete(before.hash);
    this.#heads.set(head.identity, head);
    this.#complete.add(head.hash);
    return { ...head, seq: await this.store.setHead(head) };
  }

  async #markSynod(identity: Identity): Promise<void> {
    if (this.#synodFeeds.has(identity)) return;
    this.#synodFeeds.add(identity);
    await this.store.putSetting(SYNODS, [...this.#synodFeeds]);
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
    const head = this.#heads.get(device);
    if (!head || head.comparable <= cut) return;
    const above = await this.store.chain(head.hash, { limit: Infinity, identity: device, fits: (e) => e.body.comparable > cut });
    for (const e of above) {
      this.events.emit('rejected', {
        identity: device,
        hash: e.hash,
        error: { code: 'revoked', message: `${e.hash} comes after device ${device} was revoked (cut ${cut})` },
        from: 'synod',
      });
    }
    const kept = above.at(-1)?.body.parent;
    const at = kept ? await this.store.getEntry(kept) : undefined;
    if (!at) return;
    const fallback = await this.#setHead({ identity: device, hash: at.hash, comparable: at.body.comparable });
    this.events.emit('head', fallback);
  }

  /**
   * Our own new entries, root-most first, already linked: all stored, then
   * only the last offered as the head. A rewrite's re-signed entries keep
   * their comparables, so one alone could tie with the old head; only the
   * rebase entry at the end is meant to take over (§8.4).
   */
  async appendOwn(...entries: Entry[]): Promise<void> {
    for (const entry of entries) {
      await this.store.putEntry(entry);
      this.events.emit('entry', entry);
    }
    const last = entries.at(-1);
    if (last) await this.considerHead(last.body.identity, last.hash);
  }
}
