/**
 * A channel delivers whole frames (JSON text) between two ends: a WebSocket
 * to a room, a WebRTC data channel, or frames relayed through a room. The
 * session and replication code see only this interface, so one engine runs
 * over every transport.
 */
export type TransportKind = 'websocket' | 'webrtc' | 'relay' | 'memory';

export abstract class Channel {
  abstract readonly kind: TransportKind;
  onFrame: ((frame: string) => void) | null = null;
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
  protected abstract shutdown(reason: string): void;
}

/** Two connected in-memory ends, delivering asynchronously like a real transport. */
export function memoryPair(): [Channel, Channel] {
  class MemoryChannel extends Channel {
    readonly kind = 'memory' as const;
    other!: MemoryChannel;
    protected transmit(frame: string): void {
      queueMicrotask(() => this.other.deliver(frame));
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
