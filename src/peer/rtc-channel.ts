/**
 * WebRTC data channels between browsers, negotiated through the room:
 * offer, answer and ICE candidates travel as `message_to` payloads. Either
 * side may dial; when both offer at once, the smaller identity's offer wins
 * and the other side yields (docs/protocol.md §13.6).
 */
import type { Identity } from '../protocol/index.ts';
import { Channel } from './channel.ts';
import type { PeerSignal, SignalSender } from './relay-channel.ts';

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

export const rtcAvailable = (): boolean => typeof globalThis.RTCPeerConnection === 'function';

export class RtcChannel extends Channel {
  readonly kind = 'webrtc' as const;
  #queue: string[] = [];

  constructor(
    private readonly pc: RTCPeerConnection,
    private readonly dc: RTCDataChannel,
  ) {
    super();
    dc.bufferedAmountLowThreshold = LOW_WATER;
    dc.onmessage = (e) => typeof e.data === 'string' && this.deliver(e.data);
    dc.onclose = () => this.closedBy('data channel closed');
    dc.onbufferedamountlow = () => this.#drain();
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.closedBy(`connection ${pc.connectionState}`);
    };
  }

  /** Which kind of ICE candidate pair carries the data: host, srflx, or relay (TURN). */
  async route(): Promise<string | null> {
    const stats = await this.pc.getStats();
    let pairLocal: string | undefined;
    stats.forEach((s: { type: string; state?: string; nominated?: boolean; localCandidateId?: string }) => {
      if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated) pairLocal = s.localCandidateId;
    });
    let kind: string | null = null;
    stats.forEach((s: { type: string; id: string; candidateType?: string }) => {
      if (s.id === pairLocal) kind = s.candidateType ?? null;
    });
    return kind;
  }

  protected transmit(frame: string): void {
    if (this.#queue.length > 0 || this.dc.bufferedAmount > HIGH_WATER) this.#queue.push(frame);
    else this.dc.send(frame);
  }

  #drain(): void {
    while (this.#queue.length > 0 && this.dc.bufferedAmount <= HIGH_WATER) this.dc.send(this.#queue.shift() as string);
  }

  protected shutdown(): void {
    this.dc.close();
    this.pc.close();
  }
}

export interface RtcOptions {
  iceServers: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
  timeoutMs?: number;
}

/**
 * One negotiation with one peer. Feed it the peer's signals; it resolves
 * with an open channel or rejects (timeout, failure) so the caller can fall
 * back to relaying.
 */
export class RtcNegotiation {
  readonly channel: Promise<RtcChannel>;
  /** This side offered (rather than answered). */
  readonly dialer: boolean;
  /** Abandoned for the other side's offer (glare): no `fail` is sent, the other negotiation goes on. */
  yielded = false;
  #pc: RTCPeerConnection;
  #reject: ((err: Error) => void) | null = null;
  #pendingCandidates: RTCIceCandidateInit[] = [];
  #remoteSet = false;

  constructor(
    private readonly room: SignalSender,
    private readonly peer: Identity,
    dial: boolean,
    options: RtcOptions,
  ) {
    this.dialer = dial;
    const pc = new RTCPeerConnection({ iceServers: options.iceServers, iceTransportPolicy: options.iceTransportPolicy ?? 'all' });
    this.#pc = pc;
    pc.onicecandidate = (e) => {
      if (e.candidate) room.sendTo(peer, { ch: 'rtc', candidate: e.candidate.toJSON() });
    };
    this.channel = new Promise<RtcChannel>((resolve, reject) => {
      this.#reject = reject;
      const timer = setTimeout(() => {
        pc.close();
        reject(new Error('WebRTC did not connect in time'));
      }, options.timeoutMs ?? 10_000);
      const opened = (dc: RTCDataChannel) => {
        const done = () => {
          clearTimeout(timer);
          resolve(new RtcChannel(pc, dc));
        };
        if (dc.readyState === 'open') done();
        else dc.onopen = done;
      };
      if (dial) {
        opened(pc.createDataChannel('effigy', { ordered: true }));
        void pc
          .createOffer()
          .then((offer) => pc.setLocalDescription(offer))
          .then(() => room.sendTo(peer, { ch: 'rtc', sdp: { type: 'offer', sdp: pc.localDescription?.sdp ?? '' } }))
          .catch((err: Error) => reject(err));
      } else {
        pc.ondatachannel = (e) => opened(e.channel);
      }
    });
    this.channel.catch(() => this.yielded || room.sendTo(peer, { ch: 'rtc', fail: 'gave up' }));
  }

  async signal(signal: PeerSignal): Promise<void> {
    if (signal.ch !== 'rtc') return;
    const pc = this.#pc;
    if ('sdp' in signal) {
      await pc.setRemoteDescription(signal.sdp);
      this.#remoteSet = true;
      // A candidate of an offer abandoned in glare does not match: skip it, keep the others.
      for (const c of this.#pendingCandidates.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
      if (signal.sdp.type === 'offer') {
        await pc.setLocalDescription(await pc.createAnswer());
        this.room.sendTo(this.peer, { ch: 'rtc', sdp: { type: 'answer', sdp: pc.localDescription?.sdp ?? '' } });
      }
    } else if ('candidate' in signal) {
      if (this.#remoteSet) await pc.addIceCandidate(signal.candidate);
      else this.#pendingCandidates.push(signal.candidate);
    }
  }

  abort(): void {
    this.#pc.close();
    this.#reject?.(new Error('the peer gave up'));
  }

  /** Both offered at once and the other side's offer wins: stop quietly. */
  yieldTo(): void {
    this.yielded = true;
    this.#pc.close();
    this.#reject?.(new Error('yielded to the peer’s offer'));
  }
}
