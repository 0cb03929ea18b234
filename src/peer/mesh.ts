/**
 * The mesh: rooms we are in and the peer links we hold. For each identity
 * present in a room, the smaller identity dials: WebRTC first where the
 * platform has it, then the room relay when WebRTC cannot connect. The
 * transport of every link is visible, because people like to know.
 */
import type { Hash, Identity, KeyPair, Service, WireMessage } from '../protocol/index.ts';
import type { Channel, TransportKind } from './channel.ts';
import { Emitter } from './events.ts';
import { Link, type BlobAccounting, type BlobProgress, type SyncProgress } from './link.ts';
import { asPeerSignal, RelayChannel, type PeerSignal } from './relay-channel.ts';
import type { Replica } from './replica.ts';
import { RoomClient, type RoomStatus } from './room-client.ts';
import { rtcAvailable, RtcNegotiation, type RtcOptions } from './rtc-channel.ts';
import { authenticate } from './session.ts';

export interface PeerLinkInfo {
  readonly identity: Identity;
  readonly transport: TransportKind;
  readonly room: string;
}

export interface MeshEvents {
  peer: PeerLinkInfo & { connected: boolean };
  room: { url: string; status: RoomStatus };
  roomLink: { url: string; link: Link };
  /** Room messages the mesh does not handle (dropbox notices, lease answers, ...). */
  roomOther: { url: string; link: Link; message: WireMessage };
  blob: BlobProgress;
  sync: SyncProgress;
  log: string;
  /** Peer messages a link does not handle itself (`call` for a lease between peers: keeping.ts). */
  peerOther: { link: Link; message: WireMessage };
  /** A peer said which services it offers us (again: offers can change while linked). */
  peerProvides: { link: Link; services: readonly Service[] };
}

export interface MeshOptions {
  keys: KeyPair;
  replica: Replica;
  provides: readonly Service[];
  head: () => Promise<Hash | null>;
  /** ICE servers (STUN/TURN) for WebRTC; WebRTC is off when null. */
  rtc: (() => Promise<RtcOptions>) | null;
  /** Per-peer notes with peer links (rooms never keep them). */
  notes?: boolean;
  WebSocket?: unknown;
  /** Blob bytes booked per peer and serving in order of reciprocity (reciprocity.ts). */
  blobs?: BlobAccounting;
}

interface Held {
  link: Link;
  transport: TransportKind;
  room: string;
}

const PEER_PROVIDES: Service[] = ['blobs', 'headtracking'];

export class Mesh {
  readonly events = new Emitter<MeshEvents>();
  readonly rooms = new Map<string, RoomClient>();
  #links = new Map<Identity, Held>();
  #relays = new Map<Identity, RelayChannel>();
  #rtc = new Map<Identity, RtcNegotiation>();
  #dialing = new Set<Identity>();
  /** WebRTC signals from each peer, handled one at a time: ICE candidates must not overtake the offer while ICE servers are fetched. */
  #rtcQueue = new Map<Identity, Promise<void>>();

  constructor(private readonly options: MeshOptions) {}

  links(): PeerLinkInfo[] {
    return [...this.#links.entries()].map(([identity, h]) => ({ identity, transport: h.transport, room: h.room }));
  }

  linkTo(identity: Identity): Link | undefined {
    return this.#links.get(identity)?.link;
  }

  /** Every open link: peers first, then room servers (which may hold leases). */
  allLinks(): Link[] {
    const rooms = [...this.rooms.values()].map((r) => r.link).filter((l): l is Link => l !== null);
    return [...[...this.#links.values()].map((h) => h.link), ...rooms];
  }

  join(url: string): RoomClient {
    const existing = this.rooms.get(url);
    if (existing) return existing;
    const room = new RoomClient({
      url,
      keys: this.options.keys,
      replica: this.options.replica,
      provides: this.options.provides,
      head: this.options.head,
      ...(this.options.WebSocket !== undefined && { WebSocket: this.options.WebSocket }),
      log: (line) => this.events.emit('log', line),
    });
    this.rooms.set(url, room);
    room.events.on('status', (status) => {
      this.events.emit('room', { url, status });
      if (status !== 'online')
        for (const [identity, held] of this.#links) if (held.room === url && held.transport === 'relay') held.link.close('room offline');
    });
    room.events.on('link', (link) => this.events.emit('roomLink', { url, link }));
    room.events.on('sync', (p) => this.events.emit('sync', p));
    room.events.on('blob', (p) => this.events.emit('blob', p));
    room.events.on('presence', (p) => {
      if (p.online) void this.#maybeDial(room, p.identity);
      else this.#relays.get(p.identity)?.lost('peer left the room');
    });
    room.events.on('message', (m) => void this.#signal(room, m.from, m.payload));
    room.events.on('headHint', (h) => void this.#pullAnywhere(h.identity, h.head));
    room.events.on('other', (message) => room.link && this.events.emit('roomOther', { url, link: room.link, message }));
    return room;
  }

  leave(url: string): void {
    this.rooms.get(url)?.close();
    this.rooms.delete(url);
  }

  /** A head someone mentioned: try every link until the replica has it. */
  async #pullAnywhere(identity: Identity, head: Hash): Promise<void> {
    for (const link of this.allLinks()) {
      if ((await this.options.replica.head(identity))?.hash === head) return;
      await link.pull(identity, head);
    }
  }

  async #maybeDial(room: RoomClient, peer: Identity): Promise<void> {
    const me = this.options.keys.identity;
    if (peer === me || this.#links.has(peer) || this.#dialing.has(peer) || this.options.replica.isBlocked(peer)) return;
    if (me > peer) return; // the smaller identity dials
    this.#dialing.add(peer);
    try {
      if (this.options.rtc && rtcAvailable()) {
        try {
          const negotiation = new RtcNegotiation(room, peer, true, await this.options.rtc());
          this.#rtc.set(peer, negotiation);
          const channel = await negotiation.channel;
          await this.#adopt(channel, peer, room, 'webrtc');
          return;
        } catch (err) {
          this.events.emit('log', `WebRTC to ${peer} failed (${(err as Error).message}); relaying through ${room.url}`);
        } finally {
          this.#rtc.delete(peer);
        }
      }
      const relay = new RelayChannel(room, peer);
      this.#relays.set(peer, relay);
      await this.#adopt(relay, peer, room, 'relay');
    } finally {
      this.#dialing.delete(peer);
    }
  }

  async #signal(room: RoomClient, from: Identity, payload: unknown): Promise<void> {
    const signal = asPeerSignal(payload);
    if (!signal || this.options.replica.isBlocked(from)) return;
    if (signal.ch === 'relay') {
      let relay = this.#relays.get(from);
      if (!relay || relay.closed) {
        if ('close' in signal) return;
        // The far side dialled us through the relay: answer as the responder.
        relay = new RelayChannel(room, from);
        this.#relays.set(from, relay);
        relay.receive(signal);
        void this.#adopt(relay, from, room, 'relay');
        return;
      }
      relay.receive(signal);
      return;
    }
    const queued = (this.#rtcQueue.get(from) ?? Promise.resolve()).then(() => this.#rtcSignal(room, from, signal));
    const settled = queued.catch(() => undefined);
    this.#rtcQueue.set(from, settled);
    void settled.then(() => this.#rtcQueue.get(from) === settled && this.#rtcQueue.delete(from));
    await queued;
  }

  async #rtcSignal(room: RoomClient, from: Identity, signal: PeerSignal): Promise<void> {
    if (signal.ch !== 'rtc') return;
    let negotiation = this.#rtc.get(from);
    if (!negotiation && 'sdp' in signal && signal.sdp.type === 'offer') {
      if (!this.options.rtc || !rtcAvailable()) return void room.sendTo(from, { ch: 'rtc', fail: 'no WebRTC here' });
      negotiation = new RtcNegotiation(room, from, false, await this.options.rtc());
      this.#rtc.set(from, negotiation);
      negotiation.channel
        .then(
          (channel) => void this.#adopt(channel, from, room, 'webrtc'),
          () => undefined,
        )
        .finally(() => this.#rtc.delete(from));
    }
    if ('fail' in signal) negotiation?.abort();
    else await negotiation?.signal(signal).catch((err: Error) => this.events.emit('log', `WebRTC signal from ${from}: ${err.message}`));
  }

  async #adopt(channel: Channel, peer: Identity, room: RoomClient, transport: TransportKind): Promise<void> {
    await this.adopt(channel, { endpoint: `effigy-${transport}:${room.endpoint}`, room: room.url, expect: peer });
  }

  /**
   * Authenticate a channel and run a link over it. Rooms call this for every
   * peer channel; anything else that delivers frames (tests, other
   * transports) can too. Resolves once the link is up; the first sync runs on.
   */
  async adopt(channel: Channel, where: { endpoint: string; room: string; expect?: Identity }): Promise<Link | null> {
    const transport = channel.kind;
    try {
      const session = await authenticate(channel, { keys: this.options.keys, endpoint: where.endpoint, head: await this.options.head() });
      const peer = session.peer;
      if ((where.expect && peer !== where.expect) || this.options.replica.isBlocked(peer)) {
        channel.close('unexpected or blocked identity');
        return null;
      }
      this.#links.get(peer)?.link.close('replaced');
      const link = new Link(session, this.options.replica, PEER_PROVIDES, {
        onBlobProgress: (p) => this.events.emit('blob', p),
        onSync: (p) => this.events.emit('sync', p),
        onHeadHint: (identity, head) => void this.#pullAnywhere(identity, head),
        onClose: () => {
          if (this.#links.get(peer)?.link === link) {
            this.#links.delete(peer);
            this.events.emit('peer', { identity: peer, transport, room: where.room, connected: false });
          }
        },
        log: (line) => this.events.emit('log', line),
        notes: this.options.notes ?? true,
        ...(this.options.blobs && { blobs: this.options.blobs }),
        // A channel may deliver while the link is still being made: the link exists by the next microtask.
        onOther: (message) => queueMicrotask(() => this.events.emit('peerOther', { link, message })),
        onProvides: (services) => queueMicrotask(() => this.events.emit('peerProvides', { link, services })),
      });
      this.#links.set(peer, { link, transport, room: where.room });
      this.events.emit('peer', { identity: peer, transport, room: where.room, connected: true });
      void link.syncWatched().catch((err: Error) => this.events.emit('log', `sync with ${peer}: ${err.message}`));
      return link;
    } catch (err) {
      this.events.emit('log', `session over ${transport} failed: ${(err as Error).message}`);
      return null;
    }
  }

  close(): void {
    for (const url of [...this.rooms.keys()]) this.leave(url);
    for (const held of this.#links.values()) held.link.close('bye');
    this.#links.clear();
  }
}
