/**
 * A Channel whose frames travel inside the room's `message_to` /
 * `message_from`: the last-resort path between two peers that cannot reach
 * each other directly. The room rate-limits it, so it is slower, never wrong.
 */
import { LIMITS, parseSignal, type Identity, type RtcSignal } from '../protocol/index.ts';
import { Channel } from './channel.ts';

/** Peer-to-peer signals as received (docs/protocol.md §13.6); a relayed message is handed on as frame text. */
export type PeerSignal = { ch: 'relay'; frame: string } | { ch: 'relay'; close: string } | RtcSignal;

/** The relay and WebRTC signals in a message_from payload, or null (calls and other payloads are someone else's). */
export function asPeerSignal(payload: unknown): PeerSignal | null {
  const parsed = parseSignal(payload);
  if (!parsed.ok) return null;
  const signal = parsed.value;
  if (signal.ch === 'rtc') return signal;
  if (signal.ch !== 'relay') return null;
  // The relayed message travels as a JSON value, not a string, so it is not escaped twice.
  return 'm' in signal ? { ch: 'relay', frame: JSON.stringify(signal.m) } : signal;
}

export interface SignalSender {
  sendTo(identity: Identity, payload: unknown): boolean;
}

export class RelayChannel extends Channel {
  readonly kind = 'relay' as const;

  constructor(
    private readonly room: SignalSender,
    readonly peer: Identity,
  ) {
    super();
  }

  receive(signal: PeerSignal): void {
    if (signal.ch !== 'relay') return;
    if ('frame' in signal) this.deliver(signal.frame);
    else this.closedBy(`peer closed: ${signal.close}`);
  }

  /** The room lost the peer (offline) or the room itself went away. */
  lost(reason: string): void {
    this.closedBy(reason);
  }

  protected transmit(frame: string): void {
    if (!this.room.sendTo(this.peer, { ch: 'relay', m: JSON.parse(frame) as unknown })) this.closedBy('room offline');
  }

  protected shutdown(reason: string): void {
    this.room.sendTo(this.peer, { ch: 'relay', close: reason.slice(0, LIMITS.reasonChars) });
  }
}
