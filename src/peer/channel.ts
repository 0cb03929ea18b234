/**
 * A channel delivers whole frames (JSON text) between two ends: a WebSocket
 * to a room, a WebRTC data channel, or frames relayed through a room. The
 * session and replication code see only this interface, so one engine runs
 * over every transport. Some channels (a data channel) also carry binary
 * messages: blob chunks as they are (docs/protocol.md §13.1 rule 11).
 */
import { FRAME_BUDGET } from '../protocol/index.ts';

export type TransportKind = 'websocket' | 'webrtc' | 'relay' | 'memory';

export abstract class Channel {
  abstract readonly kind: TransportKind;
  /** Bytes of list items one frame of ours may carry on this channel (docs/protocol.md §13.1). */
  readonly frameBudget: number = FRAME_BUDGET.direct;
  /** Whether binary messages travel here. */
  readonly binary: boolean = false;
  onFrame: ((frame: string) => void) | null = null;
  onBytes: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((reason: string) => void) | null = null;
  bytesSent = 0;
  bytesReceived = 0;
  #closed = false;
  #pending: string[] = [];

  get closed(): boolean {
    return this.#closed;
  }

  send(frame: string): void {
    if (this.#closed) return;
    this.bytesSent += frame.length;
    this.transmit(frame);
  }

  /** A binary message, on a channel that carries them. */
  sendBytes(bytes: Uint8Array): void {
    if (!this.binary) throw new Error(`a ${this.kind} channel carries no binary messages`);
    if (this.#closed) return;
    this.bytesSent += bytes.length;
    this.transmitBytes(bytes);
  }

  /** Resolves when the channel can take more without piling up in memory (a producer waits on it between chunks). */
  writable(): Promise<void> {
    return Promise.resolve();
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.shutdown(reason);
    this.closedBy(reason);
  }

  /** Concrete channels call this for each frame they receive. Frames wait until a reader attaches. */
  protected deliver(frame: string): void {
    if (this.#closed) return;
    this.bytesReceived += frame.length;
    if (this.onFrame) this.onFrame(frame);
    else this.#pending.push(frame);
  }

  /** Concrete channels call this for each binary message; none is expected before a reader attaches. */
  protected deliverBytes(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.bytesReceived += bytes.length;
    this.onBytes?.(bytes);
  }

  /** Attach a reader, handing it any frames that arrived before it. */
  read(onFrame: (frame: string) => void): void {
    this.onFrame = onFrame;
    const pending = this.#pending;
    this.#pending = [];
    for (const f of pending) if (this.onFrame === onFrame) onFrame(f);
  }

  /** Give frames back to be read first by the next reader (a handshake hands over early frames). */
  unread(frames: readonly string[]): void {
    this.#pending.unshift(...frames);
  }

  /** Concrete channels call this when the far end goes away. */
  protected closedBy(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose?.(reason);
  }

  protected abstract transmit(frame: string): void;
  protected transmitBytes(_bytes: Uint8Array): void {
    throw new Error(`a ${this.kind} channel carries no binary messages`);
  }
  protected abstract shutdown(reason: string): void;
}

/** Two connected in-memory ends, delivering asynchronously like a real transport; binary messages too, unless told not to. */
export function memoryPair(options: { binary?: boolean } = {}): [Channel, Channel] {
  class MemoryChannel extends Channel {
    readonly kind = 'memory' as const;
    override readonly binary = options.binary ?? true;
    other!: MemoryChannel;
    protected transmit(frame: string): void {
      queueMicrotask(() => this.other.deliver(frame));
    }
    protected override transmitBytes(bytes: Uint8Array): void {
      const copy = bytes.slice();
      queueMicrotask(() => this.other.deliverBytes(copy));
    }
    protected shutdown(reason: string): void {
      queueMicrotask(() => this.other.closedBy(reason));
    }
  }
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  a.other = b;
  b.other = a;
  return [a, b];
}
