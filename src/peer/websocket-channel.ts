/** A Channel over one WebSocket connection (a browser's, or Node's global WebSocket). */
import { Channel } from './channel.ts';

/** The part of the WebSocket interface a channel needs; partysocket's ReconnectingWebSocket fits too. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export class WebSocketChannel extends Channel {
  readonly kind = 'websocket' as const;

  constructor(private readonly socket: SocketLike) {
    super();
  }

  /** The owner feeds received text frames in; binary frames are not part of the protocol. */
  receive(data: unknown): void {
    if (typeof data === 'string') this.deliver(data);
  }

  /** The owner reports the socket's end. */
  ended(reason: string): void {
    this.closedBy(reason);
  }

  protected transmit(frame: string): void {
    this.socket.send(frame);
  }

  protected shutdown(reason: string): void {
    this.socket.close(1000, reason.slice(0, 120));
  }
}
