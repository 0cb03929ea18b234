/**
 * A room connection: a reconnecting WebSocket (partysocket, with our own
 * jittered backoff, backoff.ts) to a signalling room, dialled with our
 * identity (the room routes by it, docs/protocol.md §13.8) and
 * re-authenticated on every connect. The room server is a peer like any
 * other, so the session runs a Link (head tracking, blobs, leases); on top
 * of it the room adds presence by interest (room-interest.ts), messaging
 * (`message_to` / `message_from`) and dropbox notices.
 */
import { WebSocket as ReconnectingWebSocket } from 'partysocket';
import {
  canonicalEndpoint,
  FINAL_CLOSE_CODES,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
  type Service,
  type WireMessage,
} from '../protocol/index.ts';
import { BACKOFF, reconnectDelay } from './backoff.ts';
import { Emitter } from './events.ts';
import { Link, type BlobProgress, type SyncProgress } from './link.ts';
import type { Replica } from './replica.ts';
import { InterestSync, type Interest } from './room-interest.ts';
import { authenticate } from './session.ts';
import { WebSocketChannel } from './websocket-channel.ts';

export type RoomStatus = 'connecting' | 'online' | 'offline' | 'closed';

export interface RoomEvents {
  status: RoomStatus;
  presence: { identity: Identity; head: Hash | null; online: boolean };
  message: { from: Identity; payload: unknown };
  link: Link;
  error: { code: string; message: string };
  headHint: { identity: Identity; head: Hash };
  sync: SyncProgress;
  blob: BlobProgress;
  other: WireMessage;
}

export interface RoomClientOptions {
  url: string;
  keys: KeyPair;
  replica: Replica;
  provides: readonly Service[];
  /** The head to claim in the handshake. */
  head: () => Promise<Hash | null>;
  /** Whom we watch and allow, and our opt-ins; nothing is sent without it. */
  interest?: Interest;
  /** A WebSocket constructor where there is no global one. */
  WebSocket?: unknown;
  log?: (line: string) => void;
  /** For tests: the randomness of the backoff. */
  random?: () => number;
}

/** The URL a client dials: the room's, with its identity for routing (§13.8 rule 1). */
export function dialUrl(url: string, identity: string): string {
  const u = new URL(url);
  u.searchParams.set('identity', identity);
  return u.toString();
}

export class RoomClient {
  readonly events = new Emitter<RoomEvents>();
  readonly url: string;
  readonly endpoint: string;
  /** Identities present in the room (other than us), with the head each claimed. */
  readonly present = new Map<Identity, Hash | null>();
  status: RoomStatus = 'connecting';
  link: Link | null = null;
  #socket: ReconnectingWebSocket;
  #channel: WebSocketChannel | null = null;
  #interest: InterestSync | null = null;
  #closing = false;
  /** Connection attempts since the last stable session (0: the next dial goes at once). */
  #attempt = 0;
  #onlineSince: number | null = null;

  constructor(private readonly options: RoomClientOptions) {
    this.url = options.url;
    this.endpoint = canonicalEndpoint(options.url);
    const url = dialUrl(options.url, options.keys.identity);
    this.#socket = new ReconnectingWebSocket(() => this.#nextDial(url), [], {
      WebSocket: options.WebSocket,
      maxEnqueuedMessages: 0,
      // The waiting happens in #nextDial, jittered; partysocket's own delays would be the same for every client.
      minReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      connectionTimeout: 8_000,
      shouldReconnectOnClose: (e) => !FINAL_CLOSE_CODES.has(e.code),
    });
    this.#socket.addEventListener('open', () => void this.#connected());
    this.#socket.addEventListener('message', (e) => this.#channel?.receive(e.data));
    this.#socket.addEventListener('close', (e) => {
      this.#channel?.ended(`socket closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`);
      this.#channel = null;
      this.#interest = null;
      if (this.#onlineSince !== null && performance.now() - this.#onlineSince >= BACKOFF.stableMs) this.#attempt = 1;
      this.#onlineSince = null;
      if (FINAL_CLOSE_CODES.has(e.code))
        this.events.emit('error', { code: `close_${e.code}`, message: e.reason || 'the room refused this connection' });
      this.#setStatus(this.#closing ? 'closed' : 'offline');
    });
  }

  /** partysocket asks for the URL before each attempt: the backoff waits here. */
  async #nextDial(url: string): Promise<string> {
    const delay = reconnectDelay(this.#attempt++, this.options.random);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    return url;
  }

  async #connected(): Promise<void> {
    const socket = this.#socket;
    const channel = new WebSocketChannel({
      send: (data) => socket.send(data),
      // A failed session retries through partysocket's backoff rather than ending the room.
      close: (code, reason) => (this.#closing ? socket.close(code, reason) : socket.reconnect(code, reason)),
    });
    this.#channel = channel;
    this.#setStatus('connecting');
    try {
      const session = await authenticate(channel, { keys: this.options.keys, endpoint: this.endpoint, head: await this.options.head() });
      if (channel !== this.#channel) return;
      this.link = new Link(session, this.options.replica, this.options.provides, {
        onOther: (m) => this.#other(m),
        onHeadHint: (identity, head) => this.events.emit('headHint', { identity, head }),
        onSync: (p) => this.events.emit('sync', p),
        onBlobProgress: (p) => this.events.emit('blob', p),
        onClose: () => {
          if (this.link?.channel === channel) this.link = null;
          this.present.clear();
        },
        ...(this.options.log && { log: this.options.log }),
      });
      this.#onlineSince = performance.now();
      if (this.options.interest) {
        this.#interest = new InterestSync(this.link, this.options.interest, (line) => this.options.log?.(`${this.url}: ${line}`));
        void this.#interest.update();
      }
      this.#setStatus('online');
      this.events.emit('link', this.link);
    } catch (err) {
      this.options.log?.(`room ${this.url}: ${(err as Error).message}`);
    }
  }

  #other(m: WireMessage): void {
    switch (m.type) {
      case 'presence_list':
        // Changes to whom we see (docs/protocol.md §13.8): arrivals and new heads, departures, announced heads.
        for (const p of m.peers) {
          if (p.identity === this.options.keys.identity) continue;
          this.present.set(p.identity, p.head);
          this.events.emit('presence', { identity: p.identity, head: p.head, online: true });
        }
        for (const identity of m.offline ?? []) {
          this.present.delete(identity);
          this.events.emit('presence', { identity, head: null, online: false });
        }
        for (const [identity, head] of m.heads ?? []) this.events.emit('headHint', { identity, head });
        return;
      case 'message_from':
        this.events.emit('message', { from: m.from, payload: m.payload });
        return;
      case 'error':
        this.events.emit('error', { code: m.code, message: m.message });
        return;
      default:
        this.events.emit('other', m);
    }
  }

  #setStatus(status: RoomStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.events.emit('status', status);
  }

  /** Relay a payload to an identity in the room. */
  sendTo(identity: Identity, payload: unknown): boolean {
    if (!this.link) return false;
    this.link.send({ type: 'message_to', to: identity, payload });
    return true;
  }

  /** Tell the room's head tracker about a new head of ours; answers whether the room took it (or already had a later one). */
  async announce(entry: Entry): Promise<boolean> {
    if (!this.link) return false;
    try {
      const reply = await this.link.request({ type: 'announce', entry: entry.text });
      if (reply.type === 'error' && reply.code !== 'rollback') this.options.log?.(`announce refused: ${reply.code}: ${reply.message}`);
      return reply.type !== 'error' || reply.code === 'rollback';
    } catch (err) {
      this.options.log?.(`announce failed: ${(err as Error).message}`);
      return false;
    }
  }

  /** Our watch list, allow-list or opt-ins changed: send the room the difference. */
  interestChanged(): Promise<void> {
    return this.#interest?.update() ?? Promise.resolve();
  }

  /** Drop the connection and dial again now (the app's "retry", or a network change). */
  reconnect(): void {
    this.#attempt = 0;
    this.#socket.reconnect(1000, 'reconnect');
  }

  close(): void {
    this.#closing = true;
    this.#socket.close(1000, 'bye');
    this.link?.close('bye');
  }
}
