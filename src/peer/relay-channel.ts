/**
 * A Channel whose frames travel inside the room's `message_to` /
 * `message_from`: the last-resort path between two peers that cannot reach
 * each other directly. The room rate-limits every socket (docs/room.md), so
 * frames queued together travel packed in one message (`ms`, up to the
 * payload limit) and the relays of one room share a pace below the room's
 * limit: a burst, then a steady rate, so no frame is dropped on the way.
 */
import { FRAME_BUDGET, LIMITS, parseSignal, utf8Length, type Identity, type RtcSignal } from '../protocol/index.ts';
import { Channel } from './channel.ts';
import { TokenBucket } from './rate.ts';

/** Peer-to-peer signals as received (docs/protocol.md §13.6): relayed messages are handed on as frame texts, in order. */
export type PeerSignal = { ch: 'relay'; frames: string[] } | { ch: 'relay'; close: string } | RtcSignal;

/** The relay and WebRTC signals in a message_from payload, or null (calls and other payloads are someone else's). */
export function asPeerSignal(payload: unknown): PeerSignal | null {
  const parsed = parseSignal(payload);
  if (!parsed.ok) return null;
  const signal = parsed.value;
  if (signal.ch === 'rtc') return signal;
  if (signal.ch !== 'relay') return null;
  // Relayed messages travel as JSON values, not strings, so they are not escaped twice.
  if ('m' in signal) return { ch: 'relay', frames: [JSON.stringify(signal.m)] };
  if ('ms' in signal) return { ch: 'relay', frames: signal.ms.map((m) => JSON.stringify(m)) };
  return signal;
}

export interface SignalSender {
  sendTo(identity: Identity, payload: unknown): boolean;
}

/**
 * Relay messages one room may carry for us: just below the room's 50 a second
 * and burst of 100 per socket (docs/room.md), leaving the rest for signalling.
 */
const RELAY_RATE = 45;
const RELAY_BURST = 90;
/** Frames queued before a producer waits. */
const QUEUED = 8;
/** `{"ch":"relay","ms":[` … `]}` around the packed frames. */
const WRAPPER_BYTES = 20;

/** The relays of one room take turns at one pace. */
class Pace {
  #bucket = new TokenBucket(RELAY_RATE, RELAY_BURST);
  #waiting: RelayChannel[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

  want(channel: RelayChannel): void {
    if (!this.#waiting.includes(channel)) this.#waiting.push(channel);
    if (this.#waiting.length === 1 && !this.#timer) queueMicrotask(() => this.#run());
  }

  #run(): void {
    this.#timer = null;
    while (this.#waiting.length > 0) {
      if (!this.#bucket.take()) {
        this.#timer = setTimeout(() => this.#run(), 1000 / RELAY_RATE);
        return;
      }
      const channel = this.#waiting.shift() as RelayChannel;
      if (channel.sendOne()) this.#waiting.push(channel);
    }
  }
}

const paces = new WeakMap<SignalSender, Pace>();

export class RelayChannel extends Channel {
  readonly kind = 'relay' as const;
  override readonly frameBudget = FRAME_BUDGET.relayable;
  #out: string[] = [];
  /** Why we closed, sent after the frames still queued. */
  #closing: string | null = null;
  #pace: Pace;
  #waiters: (() => void)[] = [];

  constructor(
    private readonly room: SignalSender,
    readonly peer: Identity,
  ) {
    super();
    let pace = paces.get(room);
    if (!pace) paces.set(room, (pace = new Pace()));
    this.#pace = pace;
  }

  receive(signal: PeerSignal): void {
    if (signal.ch !== 'relay') return;
    if ('frames' in signal) for (const f of signal.frames) this.deliver(f);
    else this.closedBy(`peer closed: ${signal.close}`);
  }

  /** The room lost the peer (offline) or the room itself went away. */
  lost(reason: string): void {
    this.#out = [];
    this.closedBy(reason);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** A producer (a blob being served) waits while a few frames are already queued for the pace. */
  override writable(): Promise<void> {
    if (this.closed || this.#out.length < QUEUED) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  protected transmit(frame: string): void {
    this.#out.push(frame);
    this.#pace.want(this);
  }

  /** Sends the frames queued first, as many as one payload holds; true when more wait. */
  sendOne(): boolean {
    if (this.#out.length === 0) {
      if (this.#closing !== null) this.room.sendTo(this.peer, { ch: 'relay', close: this.#closing });
      this.#closing = null;
      return false;
    }
    let bytes = WRAPPER_BYTES;
    let n = 0;
    while (n < this.#out.length && n < 64) {
      const cost = utf8Length(this.#out[n] as string) + 1;
      if (n > 0 && bytes + cost > LIMITS.messageBytes) break;
      bytes += cost;
      n++;
    }
    const frames = this.#out.splice(0, n).map((f) => JSON.parse(f) as unknown);
    const payload = frames.length === 1 ? { ch: 'relay', m: frames[0] } : { ch: 'relay', ms: frames };
    if (!this.room.sendTo(this.peer, payload)) {
      this.#out = [];
      this.#closing = null;
      this.closedBy('room offline');
    }
    if (this.#out.length < QUEUED || this.closed) for (const wake of this.#waiters.splice(0)) wake();
    return this.#out.length > 0 || this.#closing !== null;
  }

  protected shutdown(reason: string): void {
    this.#closing = reason.slice(0, LIMITS.reasonChars);
    this.#pace.want(this);
  }
}
