/**
 * WebRTC data channels between browsers, negotiated through the room:
 * offer, answer and ICE candidates travel as `message_to` payloads. Either
 * side may dial; when both offer at once, the smaller identity's offer wins
 * and the other side yields (docs/protocol.md §13.6).
 */
import type { Identity } from '../protocol/index.ts';
import { Channel } from './channel.ts';
import type { PeerSignal, SignalSender } from './relay-channel.ts';

/**
 * The send buffer kept between these marks: full enough that the channel
 * never waits on us, small enough that a large blob is produced as it goes
 * rather than queued whole (a data channel refuses sends past 16 MiB).
 */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

export const rtcAvailable = (): boolean => typeof globalThis.RTCPeerConnection === 'function';

type Outgoing = string | Uint8Array<ArrayBuffer>;

export class RtcChannel extends Channel {
  readonly kind = 'webrtc' as const;
  override readonly binary = true;
  /** Messages waiting for the send buffer to drain, from `#head` on (no shifting of a long array). */
  #queue: Outgoing[] = [];
  #head = 0;
  #queuedBytes = 0;
  #waiters: (() => void)[] = [];

  constructor(
    private readonly pc: RTCPeerConnection,
    private readonly dc: RTCDataChannel,
  ) {
    super();
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = LOW_WATER;
    dc.onmessage = (e) => {
      if (typeof e.data === 'string') this.deliver(e.data);
      else if (e.data instanceof ArrayBuffer) this.deliverBytes(new Uint8Array(e.data));
    };
    dc.onclose = () => {
      for (const wake of this.#waiters.splice(0)) wake();
      this.closedBy('data channel closed');
    };
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

  override writable(): Promise<void> {
    if (this.closed || this.dc.bufferedAmount + this.#queuedBytes <= HIGH_WATER) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  protected transmit(frame: string): void {
    this.#enqueue(frame, frame.length);
  }

  protected override transmitBytes(bytes: Uint8Array): void {
    this.#enqueue(bytes as Uint8Array<ArrayBuffer>, bytes.length);
  }

  #enqueue(message: Outgoing, size: number): void {
    if (this.#head === this.#queue.length && this.dc.bufferedAmount <= HIGH_WATER) return this.#send(message);
    this.#queue.push(message);
    this.#queuedBytes += size;
  }

  #send(message: Outgoing): void {
    if (this.dc.readyState !== 'open') return;
    if (typeof message === 'string') this.dc.send(message);
    else this.dc.send(message);
  }

  #drain(): void {
    while (this.#head < this.#queue.length && this.dc.bufferedAmount <= HIGH_WATER) {
      const message = this.#queue[this.#head] as Outgoing;
      this.#queue[this.#head++] = '';
      this.#queuedBytes -= typeof message === 'string' ? message.length : message.length;
      this.#send(message);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    if (this.dc.bufferedAmount + this.#queuedBytes <= HIGH_WATER) for (const wake of this.#waiters.splice(0)) wake();
  }

  protected shutdown(): void {
    for (const wake of this.#waiters.splice(0)) wake();
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
