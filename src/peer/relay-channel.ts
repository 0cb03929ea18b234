/**
 * A Channel whose frames travel inside the room's `message_to` /
 * `message_from`: the last-resort path between two peers that cannot reach
 * each other directly. The room rate-limits it, so it is slower, never wrong.
 */
import type { Identity } from '../protocol/index.ts';
import { Channel } from './channel.ts';

/** Payload tags on message_to, so one room carries relay frames and WebRTC signalling side by side. */
/** Peer-to-peer signals as received (a relayed message is handed on as frame text). */
export type PeerSignal =
  | { ch: 'relay'; frame: string }
  | { ch: 'relay'; close: string }
  | { ch: 'rtc'; sdp: { type: 'offer' | 'answer'; sdp: string } }
  | { ch: 'rtc'; candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } }
  | { ch: 'rtc'; fail: string };

export function asPeerSignal(payload: unknown): PeerSignal | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  // The relayed message travels as a JSON value, not a string, so it is not escaped twice.
  if (p.ch === 'relay' && typeof p.m === 'object' && p.m !== null) return { ch: 'relay', frame: JSON.stringify(p.m) };
  if (p.ch === 'relay' && typeof p.close === 'string') return { ch: 'relay', close: p.close };
  if (p.ch !== 'rtc') return null;
  const sdp = p.sdp as Record<string, unknown> | undefined;
  if (sdp && (sdp.type === 'offer' || sdp.type === 'answer') && typeof sdp.sdp === 'string')
    return { ch: 'rtc', sdp: { type: sdp.type, sdp: sdp.sdp } };
  const c = p.candidate as Record<string, unknown> | undefined;
  if (c && typeof c.candidate === 'string') {
    return {
      ch: 'rtc',
      candidate: {
        candidate: c.candidate,
        sdpMid: typeof c.sdpMid === 'string' ? c.sdpMid : null,
        sdpMLineIndex: typeof c.sdpMLineIndex === 'number' ? c.sdpMLineIndex : null,
      },
    };
  }
  if (typeof p.fail === 'string') return { ch: 'rtc', fail: p.fail };
  return null;
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
    this.room.sendTo(this.peer, { ch: 'relay', close: reason.slice(0, 200) });
  }
}
