/**
 * Consent, as this device knows it: its relations (own devices, follows,
 * followers, pubs, blocks) and its privacy choices. The mesh asks it why it
 * would link with someone (link-rules.ts); the rooms get from it what to
 * watch, whom to allow, and the two opt-ins (docs/protocol.md §13.8).
 */
import type { Identity } from '../protocol/index.ts';
import { Emitter } from './events.ts';
import { FollowerIndex } from './followers.ts';
import { linkReason, type LinkReason, type Relations } from './link-rules.ts';
import { loadPrivacy, PRIVACY_DEFAULTS, savePrivacy, visibilityOf, type Privacy } from './privacy.ts';
import type { Replica } from './replica.ts';

const PUBS_SETTING = 'pubs';
/** Pubs remembered at most (the oldest are forgotten first). */
const MAX_KNOWN_PUBS = 64;
/** The room's watch-list and allow-list bound (docs/room.md §8): we send the most useful first and no more. */
export const ROOM_LIST_MAX = 4096;
const REFRESH_DELAY_MS = 50;
/** How long after opening the follower index reads the feeds stored before it existed (once per feed). */
const CATCH_UP_DELAY_MS = 5_000;

export interface Me {
  readonly device: Identity;
  readonly synod: Identity | null;
}

const EMPTY: Relations = {
  devices: new Set(),
  follows: new Set(),
  followers: new Set(),
  pubs: new Set(),
  blocked: new Set(),
  servingStrangers: false,
};

export class Consent {
  readonly events = new Emitter<{ changed: Relations; privacy: Privacy }>();
  relations: Relations = EMPTY;
  privacy: Privacy = PRIVACY_DEFAULTS;
  #pubs: Identity[] = [];
  #followers: FollowerIndex;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #refreshing: Promise<void> | null = null;
  #catchUp: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly replica: Replica,
    private readonly me: () => Me,
  ) {
    this.#followers = new FollowerIndex(replica, () => {
      const m = me();
      return m.synod ? [m.device, m.synod] : [m.device];
    });
    replica.events.on('head', (head) => void this.#followers.update(head).then(() => this.refresh()));
    replica.events.on('reasons', () => this.refresh());
  }

  async open(): Promise<void> {
    this.privacy = await loadPrivacy(this.replica.store);
    this.events.emit('privacy', this.privacy);
    this.#pubs = (await this.replica.store.getSetting<Identity[]>(PUBS_SETTING)) ?? [];
    await this.#followers.open();
    await this.#recompute();
    // Feeds stored before and not read yet: later, in the background, so the app opens and paints first.
    this.#followers.onChange = () => this.refresh();
    this.#catchUp = setTimeout(() => void this.#followers.catchUp().then(() => this.refresh()), CATCH_UP_DELAY_MS);
  }

  reasonOf(identity: Identity): LinkReason | null {
    return identity === this.me().device ? null : linkReason(identity, this.relations);
  }

  async setPrivacy(change: Partial<Privacy>): Promise<Privacy> {
    this.privacy = { ...this.privacy, ...change };
    await savePrivacy(this.replica.store, this.privacy);
    this.events.emit('privacy', this.privacy);
    await this.#recompute();
    return this.privacy;
  }

  visibility(): { anyone: boolean; strangers: boolean } {
    return visibilityOf(this.privacy);
  }

  pubs(): Identity[] {
    return [...this.#pubs];
  }

  /** Remember a pub: one the person added, or a peer that said `pub` in `provides`. */
  async addPub(identity: Identity): Promise<void> {
    if (identity === this.me().device || this.#pubs.includes(identity)) return;
    this.#pubs = [...this.#pubs, identity].slice(-MAX_KNOWN_PUBS);
    await this.replica.store.putSetting(PUBS_SETTING, this.#pubs);
    this.refresh();
  }

  async removePub(identity: Identity): Promise<void> {
    this.#pubs = this.#pubs.filter((p) => p !== identity);
    await this.replica.store.putSetting(PUBS_SETTING, this.#pubs);
    this.refresh();
  }

  /**
   * Whose presence to ask the room for: our account and its devices, whom
   * we follow, who follows us, our pubs, and `talking` (peers we link with
   * or dial), most useful first, at most ROOM_LIST_MAX. Watching an account
   * (a synod) watches the devices that claim it (§13.8 rule 8): that is how
   * a device joining its account, or a new follower, finds its devices.
   */
  watchList(talking: Iterable<Identity> = []): Identity[] {
    const r = this.relations;
    const synod = this.me().synod;
    return this.#list([synod ? [synod] : [], r.devices, r.follows, r.followers, r.pubs, talking]);
  }

  /**
   * Who may see us and message us: our devices and whom we follow (the
   * default of §13.8), and `talking` — a peer we dial or link with must be
   * able to answer, and it knows we are here already.
   */
  /** Accounts whose devices the room may show us by their claim (rule 8): ours, and whom we follow (accounts or devices). */
  accounts(): Identity[] {
    const synod = this.me().synod;
    return [...new Set([...(synod ? [synod] : []), ...this.relations.follows])];
  }

  allowList(talking: Iterable<Identity> = []): Identity[] {
    const r = this.relations;
    return this.#list([r.devices, r.follows, talking]);
  }

  #list(groups: Iterable<Identity>[]): Identity[] {
    const me = this.me().device;
    const out = new Set<Identity>();
    for (const group of groups)
      for (const id of group) {
        if (out.size >= ROOM_LIST_MAX) return [...out];
        if (id !== me && !this.relations.blocked.has(id)) out.add(id);
      }
    return [...out];
  }

  /** Recompute soon (coalesced): heads, follows and blocks moved. */
  refresh(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#recompute();
    }, REFRESH_DELAY_MS);
  }

  /** Recompute now and wait for it (tests, and after the person changed something). */
  async settle(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    await this.#recompute();
  }

  async #recompute(): Promise<void> {
    // One at a time; a change during a run gets a run of its own.
    while (this.#refreshing) await this.#refreshing;
    this.#refreshing = this.#compute().finally(() => (this.#refreshing = null));
    await this.#refreshing;
  }

  async #compute(): Promise<void> {
    const { device, synod } = this.me();
    const replica = this.replica;
    const devices = new Set<Identity>();
    const state = synod ? replica.synod(synod) : undefined;
    for (const d of state?.devices.values() ?? []) if (d.cut === null && d.device !== device) devices.add(d.device);
    const blocked = new Set(replica.blockedList());
    const follows = new Set<Identity>();
    for (const id of replica.watched()) if (replica.reasons(id).includes('follow')) follows.add(id);
    // A person follows us when any of their feeds does: the synod's, or one of its devices'.
    const followers = new Set<Identity>();
    for (const f of this.#followers.followers()) {
      if (blocked.has(f)) continue;
      followers.add(f);
      const person = replica.synod(f) ? { identity: f, state: replica.synod(f)! } : await replica.synodOfDevice(f);
      if (!person) continue;
      followers.add(person.identity);
      for (const d of person.state.devices.values()) if (d.cut === null) followers.add(d.device);
    }
    const next: Relations = {
      devices,
      follows,
      followers,
      pubs: new Set(this.#pubs),
      blocked,
      servingStrangers: this.privacy.pub,
      checking: (synod !== null && !state?.devices.has(device)) || (await this.#someUnknown(follows)),
    };
    if (same(next, this.relations)) return;
    this.relations = next;
    this.events.emit('changed', next);
  }

  /**
   * Whether we follow someone whose feed we hold nothing of: it may be an
   * account (a synod) whose devices we cannot tell yet. Once a head is held,
   * a synod has a state and a device a feed of its own.
   */
  async #someUnknown(follows: ReadonlySet<Identity>): Promise<boolean> {
    for (const f of follows) if (!this.replica.synod(f) && !(await this.replica.head(f))) return true;
    return false;
  }

  close(): void {
    if (this.#catchUp) clearTimeout(this.#catchUp);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#followers.flush();
  }
}

function sameSet(a: ReadonlySet<Identity>, b: ReadonlySet<Identity>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function same(a: Relations, b: Relations): boolean {
  return (
    a.servingStrangers === b.servingStrangers &&
    a.checking === b.checking &&
    sameSet(a.devices, b.devices) &&
    sameSet(a.follows, b.follows) &&
    sameSet(a.followers, b.followers) &&
    sameSet(a.pubs, b.pubs) &&
    sameSet(a.blocked, b.blocked)
  );
}
