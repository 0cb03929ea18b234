/**
 * Reaching one peer through a room (docs/protocol.md §13.6): a WebRTC data
 * channel negotiated by signals, or frames relayed through the room when
 * WebRTC cannot be used or fails. Either side may dial; when both offer at
 * once, the smaller identity's offer wins and the other yields. Whether to
 * dial and whether to answer are the mesh's decisions (link-rules.ts): this
 * module only carries them out.
 */
import type { Identity } from '../protocol/index.ts';
import type { Channel, TransportKind } from './channel.ts';
import type { LinkReason } from './link-rules.ts';
import { asPeerSignal, RelayChannel, type PeerSignal } from './relay-channel.ts';
import type { RoomClient } from './room-client.ts';
import { rtcAvailable, RtcNegotiation, type RtcOptions } from './rtc-channel.ts';

export interface NegotiationHost {
  readonly me: Identity;
  isBlocked(identity: Identity): boolean;
  /** WebRTC settings for a link of this reason, or null: the relay only. */
  rtcOptions(reason: LinkReason): Promise<RtcOptions | null>;
  /** Whether to take an incoming link (an offer or a relayed session), and why; null refuses. */
  welcome(room: RoomClient, from: Identity, ch: 'rtc' | 'relay'): LinkReason | null;
  /** Authenticate the channel and hold the link. */
  adopt(channel: Channel, peer: Identity, room: RoomClient, transport: TransportKind, reason: LinkReason): Promise<void>;
  /** Whom we dial or answer changed (the rooms' allow-lists follow it). */
  changed(): void;
  log(line: string): void;
}

export class Negotiations {
  #relays = new Map<Identity, RelayChannel>();
  #rtc = new Map<Identity, RtcNegotiation>();
  #dialing = new Set<Identity>();
  /** WebRTC signals from each peer, handled one at a time: ICE candidates must not overtake the offer while ICE servers are fetched. */
  #rtcQueue = new Map<Identity, Promise<void>>();

  constructor(private readonly host: NegotiationHost) {}

  /** Dialling or answering `peer` now (a relayed session included). */
  busy(peer: Identity): boolean {
    return this.#dialing.has(peer) || this.#rtc.has(peer) || this.#relays.get(peer)?.closed === false;
  }

  /** Peers being dialled or answered (a relayed session counts until it ends). */
  pending(): Identity[] {
    const relayed = [...this.#relays].filter(([, r]) => !r.closed).map(([peer]) => peer);
    return [...new Set([...this.#dialing, ...this.#rtc.keys(), ...relayed])];
  }

  /** Dial `peer`: WebRTC unless the rules or the privacy choices say not, the relay when WebRTC fails. */
  async dial(room: RoomClient, peer: Identity, reason: LinkReason, linked: () => boolean): Promise<void> {
    const host = this.host;
    this.#dialing.add(peer);
    try {
      // Let the peer answer us (our allow-list) before it hears from us.
      host.changed();
      await room.interestChanged();
      const rtc = await host.rtcOptions(reason);
      if (rtc) {
        const negotiation = new RtcNegotiation(room, peer, true, rtc);
        this.#rtc.set(peer, negotiation);
        try {
          await host.adopt(await negotiation.channel, peer, room, 'webrtc', reason);
          return;
        } catch (err) {
          if (negotiation.yielded) return; // the peer's own offer goes on
          host.log(`WebRTC to ${peer} failed (${(err as Error).message}); relaying through ${room.url}`);
        } finally {
          if (this.#rtc.get(peer) === negotiation) this.#rtc.delete(peer);
        }
      }
      // Linked meanwhile, or the peer dialled us through the relay meanwhile (that session goes on).
      if (linked() || this.#relays.get(peer)?.closed === false) return;
      const relay = new RelayChannel(room, peer);
      this.#relays.set(peer, relay);
      await host.adopt(relay, peer, room, 'relay', reason);
    } finally {
      this.#dialing.delete(peer);
      host.changed();
    }
  }

  /** The room says `peer` left: a relayed link cannot go on. */
  lost(peer: Identity, why: string): void {
    this.#relays.get(peer)?.lost(why);
  }

  /** A `message_from` payload: relay frames and WebRTC signals (calls and others are someone else's). */
  async receive(room: RoomClient, from: Identity, payload: unknown): Promise<void> {
    const signal = asPeerSignal(payload);
    if (!signal || this.host.isBlocked(from)) return;
    if (signal.ch === 'relay') {
      let relay = this.#relays.get(from);
      if (!relay || relay.closed) {
        if ('close' in signal) return;
        const reason = this.host.welcome(room, from, 'relay');
        if (!reason) return;
        // The far side dialled us through the relay: answer as the responder.
        relay = new RelayChannel(room, from);
        this.#relays.set(from, relay);
        relay.receive(signal);
        this.host.changed();
        void this.host.adopt(relay, from, room, 'relay', reason).catch(() => undefined);
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
    const host = this.host;
    let negotiation = this.#rtc.get(from);
    if ('sdp' in signal && signal.sdp.type === 'offer' && (!negotiation || negotiation.dialer)) {
      if (negotiation) {
        // Glare: both offered. The smaller identity's offer wins (§13.6).
        if (host.me < from) return;
        negotiation.yieldTo();
      }
      const reason = host.welcome(room, from, 'rtc');
      if (!reason) return;
      const rtc = await host.rtcOptions(reason);
      if (!rtc) return void room.sendTo(from, { ch: 'rtc', fail: rtcAvailable() ? 'relay only' : 'no WebRTC here' });
      const answering = new RtcNegotiation(room, from, false, rtc);
      negotiation = answering;
      this.#rtc.set(from, answering);
      host.changed();
      answering.channel
        .then(
          (channel) => host.adopt(channel, from, room, 'webrtc', reason),
          () => undefined,
        )
        .catch(() => undefined)
        .finally(() => {
          if (this.#rtc.get(from) === answering) this.#rtc.delete(from);
          host.changed();
        });
    }
    if ('fail' in signal) negotiation?.abort();
    else await negotiation?.signal(signal).catch((err: Error) => host.log(`WebRTC signal from ${from}: ${err.message}`));
  }
}
