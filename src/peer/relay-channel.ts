/**
 * A Channel whose frames travel inside the room's `message_to` /
 * `message_from`: the last-resort path between two peers that cannot reach
 * each other directly. The room rate-limits every socket (docs/room.md), so
 * frames queued together travel packed in one message (relay-packing.ts:
 * `ms`, or compressed, `z`, up to the payload limit), and the relays of one
 * room share a pace below the room's limit: a burst, then a steady rate, so
 * no frame is dropped on the way. Received payloads are handed on in order.
 */
import { FRAME_BUDGET, LIMITS, parseSignal, type Identity, type RtcSignal } from '../protocol/index.ts';
import { Channel } from './channel.ts';
import { TokenBucket } from './rate.ts';
import type { Packer } from './relay-packing.ts';

/** Packing loads with the first relayed link: most links are WebRTC, and never need it. */
const packing = () => import('./relay-packing.ts');

/** Peer-to-peer signals as received (docs/protocol.md §13.6): relayed frames as texts, or still compressed. */
export type PeerSignal = { ch: 'relay'; frames: string[] } | { ch: 'relay'; z: string } | { ch: 'relay'; close: string } | RtcSignal;

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

/** The relays of one room take turns at one pace. */
class Pace {
  #bucket = new TokenBucket(RELAY_RATE, RELAY_BURST);
  #waiting: RelayChannel[] = [];
  #running = false;

  want(channel: RelayChannel): void {
    if (!this.#waiting.includes(channel)) this.#waiting.push(channel);
    // On a microtask: frames sent together in this task travel together.
    if (!this.#running) queueMicrotask(() => void this.#run());
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#waiting.length > 0) {
        if (!this.#bucket.take()) {
          await new Promise((r) => setTimeout(r, 1000 / RELAY_RATE));
          continue;
        }
        const channel = this.#waiting.shift() as RelayChannel;
        if (await channel.sendOne()) this.#waiting.push(channel);
      }
    } finally {
      this.#running = false;
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
  #packer: Promise<Packer> | null = null;
  #waiters: (() => void)[] = [];
  /** Received payloads, handed on one after another (a compressed one takes a moment to inflate). */
  #inbox: Promise<void> = Promise.resolve();

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
    this.#inbox = this.#inbox.then(async () => {
      if (this.closed) return;
      if ('close' in signal) return this.closedBy(`peer closed: ${signal.close}`);
      const frames = 'frames' in signal ? signal.frames : await (await packing()).unpack(signal.z);
      if (!frames) return this.close('a relayed payload that is not frames');
      for (const f of frames) this.deliver(f);
    });
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
  async sendOne(): Promise<boolean> {
    if (this.#out.length === 0) {
      if (this.#closing !== null) this.room.sendTo(this.peer, { ch: 'relay', close: this.#closing });
      this.#closing = null;
      return false;
    }
    this.#packer ??= packing().then((m) => new m.Packer());
    const { payload, taken } = await (await this.#packer).next(this.#out);
    this.#out.splice(0, taken);
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
