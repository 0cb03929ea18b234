/**
 * The mesh: rooms we are in and the peer links we hold. Links are by
 * consent (link-rules.ts, docs/peer.md): we dial, and answer, only our own
 * devices, people we follow, people who follow us and our pubs (strangers
 * too when this device is a pub), at most LINK_LIMITS.maxLinks at once, the
 * least useful dropped first. WebRTC first where the platform has it (only
 * through TURN when the address is hidden), the room relay otherwise. Every
 * link's transport and reason are visible, because people like to know.
 */
import type { Identity, Service } from '../protocol/index.ts';
import type { Channel, TransportKind } from './channel.ts';
import { Emitter, within } from './events.ts';
import { Link } from './link.ts';
import { HeadHints } from './head-hints.ts';
import { LINK_LIMITS, makeRoom, mayAccept, mayDial, overflow, type HeldLink, type LinkLimits, type LinkReason } from './link-rules.ts';
import { rtcUnder } from './privacy.ts';
import { Negotiations } from './negotiation.ts';
import { RoomClient } from './room-client.ts';
import { rtcAvailable, type RtcOptions } from './rtc-channel.ts';
import type { MeshEvents, MeshOptions, PeerLinkInfo } from './mesh-types.ts';
import { authenticate } from './session.ts';

export type { MeshEvents, MeshOptions, PeerLinkInfo };

interface Held {
  link: Link;
  transport: TransportKind;
  room: string;
  reason: LinkReason | null;
}

/** The larger identity lets the smaller dial first for this long: two offers at once is glare. */
const YIELD_MS = 1_500;
/** A link that ended while the peer is still present is dialled again after a random wait up to this. */
const REDIAL_MS = 5_000;
/** How long a dial waits for the accounts' heads before dialling a claimed device. */
const CHECK_ACCOUNTS_MS = 5_000;
/** A `claimed` link must turn out to be a device of an account we watch (its feed lists it) within this, or it ends. */
const PROBATION_MS = 60_000;

export class Mesh {
  readonly events = new Emitter<MeshEvents>();
  readonly rooms = new Map<string, RoomClient>();
  #links = new Map<Identity, Held>();
  #negotiations: Negotiations;
  #hints: HeadHints;
  #closed = false;
  readonly #limits: LinkLimits;
  #hiding: boolean;
  /** Rooms joined without presence (someone else's dropbox). */
  #quiet = new Set<string>();

  constructor(private readonly options: MeshOptions) {
    this.#limits = options.limits ?? LINK_LIMITS;
    this.#hiding = options.consent.privacy.hideAddress;
    this.#hints = new HeadHints(options.replica, () => this.allLinks());
    this.#negotiations = new Negotiations({
      me: options.keys.identity,
      isBlocked: (identity) => options.replica.isBlocked(identity),
      rtcOptions: (reason) => this.#rtcOptions(reason),
      welcome: (room, from, ch) => this.#welcome(room, from, ch),
      adopt: (channel, peer, room, transport, reason) => this.#adopt(channel, peer, room, transport, reason),
      changed: () => this.#interestChanged(),
      log: (line) => this.events.emit('log', line),
    });
    options.consent.events.on('changed', () => this.#relationsChanged());
    options.consent.events.on('privacy', () => this.#privacyChanged());
  }

  links(): PeerLinkInfo[] {
    return [...this.#links.entries()].map(([identity, h]) => ({ identity, transport: h.transport, room: h.room, reason: h.reason }));
  }

  linkTo(identity: Identity): Link | undefined {
    return this.#links.get(identity)?.link;
  }

  /** Every open link: peers first, then room servers (which may hold leases). */
  allLinks(): Link[] {
    const rooms = [...this.rooms.values()].map((r) => r.link).filter((l): l is Link => l !== null);
    return [...[...this.#links.values()].map((h) => h.link), ...rooms];
  }

  /** What every room we are present in hears from us (room-interest.ts). */
  readonly #interest = {
    watch: () => this.options.consent.watchList(this.talking()),
    allow: () => this.options.consent.allowList(this.talking()),
    visibility: () => this.options.consent.visibility(),
  };

  /** Peers we link with or dial: the rooms watch them and let them answer. */
  talking(): Identity[] {
    return [...new Set([...this.#links.keys(), ...this.#negotiations.pending()])];
  }

  /**
   * Join a room. `presence: false` joins only to use the server (leaving a
   * drop at someone else's dropbox): the room hears nothing of whom we watch
   * or allow, and we link with nobody through it.
   */
  join(url: string, { presence = true }: { presence?: boolean } = {}): RoomClient {
    const existing = this.rooms.get(url);
    if (existing) return existing;
    if (!presence) this.#quiet.add(url);
    const room = new RoomClient({
      url,
      keys: this.options.keys,
      replica: this.options.replica,
      provides: this.options.provides,
      head: this.options.head,
      ...(presence && { interest: this.#interest }),
      ...(this.options.WebSocket !== undefined && { WebSocket: this.options.WebSocket }),
      log: (line) => this.events.emit('log', line),
    });
    this.rooms.set(url, room);
    room.events.on('status', (status) => {
      this.events.emit('room', { url, status });
      if (status !== 'online')
        for (const held of this.#links.values()) if (held.room === url && held.transport === 'relay') held.link.close('room offline');
    });
    room.events.on('link', (link) => this.events.emit('roomLink', { url, link }));
    room.events.on('sync', (p) => this.events.emit('sync', p));
    room.events.on('blob', (p) => this.events.emit('blob', p));
    room.events.on('presence', (p) => {
      if (!p.online) return this.#negotiations.lost(p.identity, 'peer left the room');
      // Someone we have no reason for is shown to us as claiming an account we watch: the account may have a new device.
      if (this.options.consent.reasonOf(p.identity) === null) this.#hints.refreshAccounts(room, this.options.consent.accounts());
      void this.#maybeDial(room, p.identity);
    });
    room.events.on('message', (m) => void this.#negotiations.receive(room, m.from, m.payload));
    room.events.on('headHint', (h) => void this.#hints.pull(h.identity, h.head));
    room.events.on('other', (message) => room.link && this.events.emit('roomOther', { url, link: room.link, message }));
    return room;
  }

  leave(url: string): void {
    this.rooms.get(url)?.close();
    this.rooms.delete(url);
    this.#quiet.delete(url);
  }

  /** Whether we are present in this room (joined as ours, not only to leave a drop). */
  presenceIn(url: string): boolean {
    return this.rooms.has(url) && !this.#quiet.has(url);
  }

  #held(except?: Identity): HeldLink[] {
    return [...this.#links.entries()]
      .filter(([identity]) => identity !== except)
      .map(([identity, h]) => ({ identity, reason: h.reason ?? 'served', lastUseful: h.link.lastUseful }));
  }

  /** WebRTC settings under the privacy choices, or null: relay through the room (also to a claimed device we cannot tell yet). */
  async #rtcOptions(reason: LinkReason): Promise<RtcOptions | null> {
    if (reason === 'claimed' || !this.options.rtc || !rtcAvailable()) return null;
    return rtcUnder(this.options.consent.privacy, await this.options.rtc());
  }

  #interestChanged(): void {
    for (const room of this.rooms.values()) void room.interestChanged();
  }

  async #maybeDial(room: RoomClient, peer: Identity): Promise<void> {
    const me = this.options.keys.identity;
    const busy = () => this.#closed || this.#links.has(peer) || this.#negotiations.busy(peer);
    let reason = this.options.consent.reasonOf(peer);
    if (peer === me || busy() || !mayDial(reason)) return;
    if (reason === 'claimed' && room.link) {
      // The account it claims may be leased on this server: read it first, and we may know who this is.
      await within(room.link.syncWatched(this.options.consent.accounts()), CHECK_ACCOUNTS_MS);
      await this.options.consent.settle();
      reason = this.options.consent.reasonOf(peer);
      if (busy() || !mayDial(reason)) return;
    }
    if (makeRoom(this.#held(), reason, this.#limits) === 'refuse') {
      this.events.emit('log', `not linking with ${peer} (${reason}): ${this.#links.size} links held, each at least as useful`);
      return;
    }
    if (me > peer) {
      await new Promise((r) => setTimeout(r, YIELD_MS));
      if (busy() || !room.present.has(peer)) return;
    }
    await this.#negotiations.dial(room, peer, reason, () => this.#links.has(peer));
  }

  /** Whether to take an incoming link (an offer, a relayed session): consent, then the cap. A stranger hears nothing back. */
  #welcome(room: RoomClient, from: Identity, ch: 'rtc' | 'relay'): LinkReason | null {
    const reason = this.options.consent.reasonOf(from);
    // A claimed device only when the room shows it to us (it claims an account we watch), never one that merely messaged us.
    if (!mayAccept(reason) || (reason === 'claimed' && !room.present.has(from))) {
      this.events.emit('log', `ignored a link from ${from}: not a device of ours, nobody we follow or who follows us, nor a pub`);
      return null;
    }
    if (makeRoom(this.#held(from), reason, this.#limits) === 'refuse') {
      room.sendTo(from, ch === 'rtc' ? { ch, fail: 'too many links' } : { ch, close: 'too many links' });
      return null;
    }
    return reason;
  }

  async #adopt(channel: Channel, peer: Identity, room: RoomClient, transport: TransportKind, reason: LinkReason): Promise<void> {
    await this.#open(channel, { endpoint: `effigy-${transport}:${room.endpoint}`, room: room.url, expect: peer }, reason);
  }

  /**
   * Authenticate a channel and run a link over it. Rooms call this (through
   * the consent rules) for every peer channel; anything else that delivers
   * frames (tests, other transports) can call it directly, having decided
   * itself to link. Resolves once the link is up; the first sync runs on.
   */
  adopt(channel: Channel, where: { endpoint: string; room: string; expect?: Identity }): Promise<Link | null> {
    return this.#open(channel, where, null);
  }

  async #open(
    channel: Channel,
    where: { endpoint: string; room: string; expect?: Identity },
    reason: LinkReason | null,
  ): Promise<Link | null> {
    const transport = channel.kind;
    try {
      const session = await authenticate(channel, { keys: this.options.keys, endpoint: where.endpoint, head: await this.options.head() });
      const peer = session.peer;
      if ((where.expect && peer !== where.expect) || this.options.replica.isBlocked(peer)) {
        channel.close('unexpected or blocked identity');
        return null;
      }
      if (reason !== null) {
        // Relations may have moved while we negotiated: the rules once more, and room under the cap.
        reason = this.options.consent.reasonOf(peer);
        const verdict = mayAccept(reason) ? makeRoom(this.#held(peer), reason, this.#limits) : 'refuse';
        if (!mayAccept(reason) || verdict === 'refuse') {
          channel.close(mayAccept(reason) ? 'too many links' : 'not linked by consent');
          return null;
        }
        if (verdict !== 'room') this.#links.get(verdict.drop)?.link.close('making room for a more useful link');
      }
      this.#links.get(peer)?.link.close('replaced');
      const link = new Link(session, this.options.replica, this.#provides(), {
        onBlobProgress: (p) => this.events.emit('blob', p),
        onSync: (p) => this.events.emit('sync', p),
        onHeadHint: (identity, head) => void this.#hints.pull(identity, head),
        onProvides: (services) => {
          if (services.includes('pub')) void this.options.consent.addPub(peer);
        },
        onClose: (why) => {
          if (this.#links.get(peer)?.link !== link) return;
          this.#links.delete(peer);
          this.events.emit('peer', { identity: peer, transport, room: where.room, reason, connected: false });
          this.#interestChanged();
          if (reason !== null) this.#redialLater(where.room, peer, why);
        },
        log: (line) => this.events.emit('log', line),
        notes: this.options.notes ?? true,
      });
      this.#links.set(peer, { link, transport, room: where.room, reason });
      if (reason === 'claimed')
        setTimeout(() => {
          const held = this.#links.get(peer);
          if (held?.link === link && held.reason === 'claimed') link.close('not a device of an account we watch');
        }, PROBATION_MS);
      this.events.emit('peer', { identity: peer, transport, room: where.room, reason, connected: true });
      this.#interestChanged();
      void link.syncWatched().catch((err: Error) => this.events.emit('log', `sync with ${peer}: ${err.message}`));
      return link;
    } catch (err) {
      this.events.emit('log', `session over ${transport} failed: ${(err as Error).message}`);
      return null;
    }
  }

  #provides(): Service[] {
    return ['blobs', 'headtracking', ...(this.options.consent.privacy.pub ? (['pub'] as const) : [])];
  }

  /** A link that ended on its own while the peer is still here is dialled again, after a random wait. */
  #redialLater(url: string, peer: Identity, why: string): void {
    if (this.#closed || /consent|blocked|too many|making room|replaced|bye/.test(why)) return;
    setTimeout(
      () => {
        const room = this.rooms.get(url);
        if (room?.present.has(peer)) void this.#maybeDial(room, peer);
      },
      REDIAL_MS / 2 + Math.random() * (REDIAL_MS / 2),
    );
  }

  /** Follows, followers, devices, pubs or blocks moved: re-sort the links, tell the rooms, dial who became welcome. */
  #relationsChanged(): void {
    const consent = this.options.consent;
    for (const [peer, held] of this.#links) {
      if (held.reason === null) continue;
      const reason = consent.reasonOf(peer);
      if (!mayAccept(reason)) held.link.close('no longer linked by consent');
      else if (held.reason === 'claimed' && reason !== 'claimed' && held.transport === 'relay' && this.options.rtc && rtcAvailable())
        held.link.close('confirmed: reconnecting directly'); // a claimed link was relay only
      else if (held.reason !== reason) {
        held.reason = reason;
        this.events.emit('peer', { identity: peer, transport: held.transport, room: held.room, reason, connected: true });
      }
    }
    for (const peer of overflow(this.#held(), this.#limits)) this.#links.get(peer)?.link.close('making room for a more useful link');
    this.#interestChanged();
    for (const room of this.rooms.values()) for (const peer of room.present.keys()) void this.#maybeDial(room, peer);
  }

  #privacyChanged(): void {
    const provides = this.#provides();
    for (const held of this.#links.values()) held.link.send({ type: 'provides', services: provides });
    // Links come back under the new choice: a direct path may show our address; a relayed one may go direct again.
    const hide = this.options.consent.privacy.hideAddress;
    if (hide !== this.#hiding) {
      this.#hiding = hide;
      const wrong = hide ? 'webrtc' : 'relay';
      for (const held of this.#links.values())
        if (held.transport === wrong && held.reason !== null) held.link.close(`address ${hide ? 'hidden' : 'shown'}: reconnecting`);
    }
    this.#interestChanged();
  }

  close(): void {
    this.#closed = true;
    this.#hints.close();
    for (const url of [...this.rooms.keys()]) this.leave(url);
    for (const held of this.#links.values()) held.link.close('bye');
    this.#links.clear();
  }
}
