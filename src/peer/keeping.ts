/**
 * Data leases between peers (design: the first two leasing scenarios — your
 * own devices, and "the sort of people you give spare house keys to";
 * docs/protocol.md §13.11). A peer offers `datalease` only to its own
 * account's devices and to friends its person chose, by sending them an
 * updated `provides`. A peer offered it asks (`call`) to have its feeds kept:
 * this device's, and its account's. The keeper replicates them with the
 * `lease` reason, fetches the blobs their entries name, up to a quota its
 * person sets, and serves them like anything it holds — so others get them
 * while the owner is offline. Both sides remember: who keeps a copy of our
 * feeds, and whose feeds we keep.
 */
import type { Hash, Identity, WireOf } from '../protocol/index.ts';
import { Emitter } from './events.ts';
import type { Keys } from './keys.ts';
import { blobRefsOf, callLease } from './lease.ts';
import type { Link } from './link.ts';
import type { Mesh } from './mesh.ts';
import type { Replica } from './replica.ts';

const SETTINGS = 'keeping-settings';
const KEPT = 'keeping-kept';
const KEEPERS = 'keeping-keepers';
/** Leases asked of friends: 30 days, asked again when less than half is left. */
export const KEEP_SECONDS = 30 * 24 * 3600;

export interface KeepingSettings {
  /** People (accounts, or devices without one) this device keeps copies for, besides the account's own devices. */
  friends: Identity[];
  /** Bytes of others' feeds and blobs kept at most. */
  quotaBytes: number;
  /** Ask peers that offer to keep a copy of this account's feeds. */
  ask: boolean;
}

export const DEFAULT_KEEPING: KeepingSettings = { friends: [], quotaBytes: 100 * 1024 * 1024, ask: true };

/** A feed this device keeps for someone. */
export interface Kept {
  readonly feed: Identity;
  /** The identity that asked (its device). */
  readonly for: Identity;
  head: Hash;
  expires: number;
  /** Entries and blobs held for it. */
  bytes: number;
}

/** A peer that keeps one of our feeds. */
export interface Keeper {
  readonly keeper: Identity;
  readonly feed: Identity;
  readonly expires: number;
}

export class Keeping {
  readonly events = new Emitter<{ changed: void }>();
  #settings: KeepingSettings = DEFAULT_KEEPING;
  #kept = new Map<Identity, Kept>();
  #keepers = new Map<string, Keeper>();
  #asking = new Set<Identity>();
  /** What each link was last offered: an offer is sent again only when it changes. */
  #offered = new WeakMap<Link, boolean>();
  #loaded: Promise<void>;

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly mesh: Mesh,
    private readonly now: () => number = Date.now,
  ) {
    this.#loaded = this.#load();
    void this.expire().catch(() => undefined);
    mesh.events.on('peer', (p) => {
      const link = p.connected ? mesh.linkTo(p.identity) : undefined;
      if (link) void this.offerTo(link);
    });
    mesh.events.on('peerProvides', ({ link, services }) => {
      if (services.includes('datalease')) void this.#maybeAsk(link).catch(() => undefined);
    });
    mesh.events.on('peerOther', ({ link, message }) => {
      if (message.type === 'call') void this.answer(link, message);
    });
    // A friend's account arriving (or ours changing) can make a linked device one we keep for.
    replica.events.on('head', (h) => {
      if (this.#settings.friends.includes(h.identity) || h.identity === keys.synodIdentity) void this.#offerAll();
      else {
        const link = mesh.linkTo(h.identity);
        if (link) void this.offerTo(link);
      }
    });
    replica.events.on('entry', (e) => {
      if (this.#kept.has(e.body.identity)) void this.#fill(e.body.identity).catch(() => undefined);
    });
  }

  get settings(): KeepingSettings {
    return this.#settings;
  }

  async setSettings(change: Partial<KeepingSettings>): Promise<void> {
    await this.#loaded;
    this.#settings = { ...this.#settings, ...change };
    await this.replica.store.putSetting(SETTINGS, this.#settings);
    await this.#offerAll();
    this.events.emit('changed', undefined);
  }

  async #offerAll(): Promise<void> {
    for (const link of this.mesh.allLinks()) if (this.mesh.linkTo(link.peer) === link) await this.offerTo(link);
  }

  /** Whose feeds this device keeps (live leases). */
  kept(): Kept[] {
    return [...this.#kept.values()].filter((k) => k.expires > this.now());
  }

  /** Who keeps a copy of this account's feeds (live leases). */
  keepers(): Keeper[] {
    return [...this.#keepers.values()].filter((k) => k.expires > this.now());
  }

  usedBytes(): number {
    return this.kept().reduce((sum, k) => sum + k.bytes, 0);
  }

  /** Whether this device keeps copies for `asker`: a live device of its own account, or a friend its person chose (or a device of one). */
  async keepsFor(asker: Identity): Promise<boolean> {
    await this.#loaded;
    const synod = this.keys.synodIdentity;
    if (synod && this.replica.synod(synod)?.devices.get(asker)?.cut === null && asker !== this.keys.device.identity) return true;
    if (this.#settings.friends.includes(asker)) return true;
    const account = await this.replica.synodOfDevice(asker);
    return !!account && this.#settings.friends.includes(account.identity) && account.state.devices.get(asker)?.cut === null;
  }

  /** Tell a peer we keep copies for that we offer `datalease` (an updated `provides`, §13.2). */
  async offerTo(link: Link): Promise<void> {
    if (link.closed) return;
    const offer = (await this.keepsFor(link.peer)) && this.#settings.quotaBytes > 0;
    if (this.#offered.get(link) === offer || link.closed) return;
    this.#offered.set(link, offer);
    this.mesh.offer(link, offer ? ['datalease'] : []);
  }

  /** Answer a peer's `call` for `datalease`: `lease`, or an error that says why. */
  async answer(link: Link, msg: WireOf<'call'>): Promise<void> {
    const refuse = (code: 'forbidden' | 'quota', message: string) => link.send({ type: 'error', re: msg.id, code, message });
    if (!(await this.keepsFor(link.peer)))
      return refuse('forbidden', 'this peer keeps copies only for its own devices and the friends its person chose');
    const account = await this.replica.synodOfDevice(link.peer);
    if (msg.identity !== link.peer && msg.identity !== account?.identity)
      return refuse('forbidden', "a peer keeps only the asker's own feed and its account's");
    await this.expire();
    const held = this.#kept.get(msg.identity);
    if (!held && this.usedBytes() >= this.#settings.quotaBytes) return refuse('quota', 'the space this peer sets aside for others is full');
    const expires = this.now() + msg.seconds * 1000;
    this.#kept.set(msg.identity, { feed: msg.identity, for: link.peer, head: msg.head, expires, bytes: held?.bytes ?? 0 });
    await this.replica.watch(msg.identity, 'lease');
    await this.#save();
    link.send({ type: 'lease', re: msg.id, identity: msg.identity, head: msg.head, expires });
    this.events.emit('changed', undefined);
    void link
      .pull(msg.identity, msg.head)
      .then(() => this.#fill(msg.identity))
      .catch(() => undefined);
  }

  /** Ask `link`'s peer to keep this device's feed and its account's. */
  async askToKeep(link: Link, seconds = KEEP_SECONDS): Promise<Keeper[]> {
    await this.#loaded;
    const got: Keeper[] = [];
    for (const feed of [this.keys.device.identity, this.keys.synodIdentity]) {
      const head = feed ? await this.replica.head(feed) : undefined;
      if (!feed || !head) continue;
      const grant = await callLease(link, feed, head.hash, seconds);
      const keeper = { keeper: link.peer, feed, expires: grant.expires };
      this.#keepers.set(`${link.peer}|${feed}`, keeper);
      got.push(keeper);
    }
    await this.replica.store.putSetting(KEEPERS, [...this.#keepers.values()]);
    this.events.emit('changed', undefined);
    return got;
  }

  /** Expired leases: stop keeping (and forget keepers whose lease ran out). */
  async expire(): Promise<void> {
    await this.#loaded;
    for (const [feed, k] of this.#kept)
      if (k.expires <= this.now()) {
        this.#kept.delete(feed);
        await this.replica.unwatch(feed, 'lease');
      }
    for (const [key, k] of this.#keepers) if (k.expires <= this.now()) this.#keepers.delete(key);
    await this.#save();
    await this.replica.store.putSetting(KEEPERS, [...this.#keepers.values()]);
  }

  async #maybeAsk(link: Link): Promise<void> {
    await this.#loaded;
    if (!this.#settings.ask || this.#asking.has(link.peer)) return;
    const mine = [...this.#keepers.values()].filter((k) => k.keeper === link.peer);
    if (mine.length > 0 && mine.every((k) => k.expires - this.now() > (KEEP_SECONDS * 1000) / 2)) return;
    this.#asking.add(link.peer);
    try {
      await this.askToKeep(link);
    } finally {
      this.#asking.delete(link.peer);
    }
  }

  /** Count what is held for a kept feed, and fetch the blobs its entries name while the quota allows. */
  async #fill(feed: Identity): Promise<void> {
    const kept = this.#kept.get(feed);
    if (!kept) return;
    let bytes = 0;
    for (const entry of await this.replica.chain(feed)) {
      bytes += entry.size;
      for (const ref of await blobRefsOf(entry, this.replica.store)) {
        if ((await this.replica.store.blobSize(ref.hash)) !== undefined) {
          bytes += ref.size;
          continue;
        }
        if (this.usedBytes() - kept.bytes + bytes + ref.size > this.#settings.quotaBytes) continue;
        const from = this.mesh.linkTo(kept.for);
        const got = await from?.fetchBlob(ref.hash, ref.size).catch(() => null);
        if (got) bytes += got.length;
      }
    }
    kept.bytes = bytes;
    await this.#save();
    this.events.emit('changed', undefined);
  }

  async #save(): Promise<void> {
    await this.replica.store.putSetting(KEPT, [...this.#kept.values()]);
  }

  async #load(): Promise<void> {
    const store = this.replica.store;
    this.#settings = { ...DEFAULT_KEEPING, ...((await store.getSetting<Partial<KeepingSettings>>(SETTINGS)) ?? {}) };
    for (const k of (await store.getSetting<Kept[]>(KEPT)) ?? []) this.#kept.set(k.feed, k);
    for (const k of (await store.getSetting<Keeper[]>(KEEPERS)) ?? []) this.#keepers.set(`${k.keeper}|${k.feed}`, k);
  }
}
