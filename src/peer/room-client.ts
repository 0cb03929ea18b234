/**
 * A room connection: a reconnecting WebSocket (partysocket: backoff and
 * retry are its job) to a signalling room, re-authenticated on every
 * connect. The room server is a peer like any other, so the session runs a
 * Link (head tracking, blobs, leases); on top of it the room adds presence,
 * messaging (`message_to` / `message_from`) and dropbox notices.
 *
 * Presence is by interest (docs/protocol.md §13.8): the socket is dialled
 * with our identity in the URL (the room's shard for it), and after every
 * session we tell the room whom we watch (the replica's watch list), whom we
 * let see us and message us (our follows and our synod's devices), and our
 * two opt-ins; then deltas as the watch list changes.
 */
import { WebSocket as ReconnectingWebSocket } from 'partysocket';
import {
  canonicalEndpoint,
  FINAL_CLOSE_CODES,
  LIMITS,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
  type Service,
  type WireMessage,
} from '../protocol/index.ts';
import { Emitter } from './events.ts';
import { Link, type BlobProgress, type SyncProgress } from './link.ts';
import type { Replica } from './replica.ts';
import { authenticate } from './session.ts';
import type { WatchReason } from './store.ts';
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
  /** The two opt-ins sent after each session (docs/protocol.md §13.8 rule 6). */
  visibility: { anyone: boolean; strangers: boolean };
  /** A WebSocket constructor where there is no global one. */
  WebSocket?: unknown;
  log?: (line: string) => void;
}

/** Whom we let see us and message us: those we follow and our own synod's devices. */
const allows = (reasons: readonly WatchReason[]): boolean => reasons.includes('follow') || reasons.includes('device');

/** The URL of `url` for this identity's shard of the room. */
export function roomSocketUrl(url: string, identity: Identity): string {
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
  #closing = false;
  #offReasons: () => void;

  constructor(private readonly options: RoomClientOptions) {
    this.url = options.url;
    this.endpoint = canonicalEndpoint(options.url);
    this.#offReasons = options.replica.events.on('reasons', ({ identity, reasons }) => this.#reasonsChanged(identity, reasons));
    this.#socket = new ReconnectingWebSocket(roomSocketUrl(options.url, options.keys.identity), [], {
      WebSocket: options.WebSocket,
      maxEnqueuedMessages: 0,
      minReconnectionDelay: 250 + Math.random() * 500,
      maxReconnectionDelay: 15_000,
      connectionTimeout: 8_000,
      shouldReconnectOnClose: (e) => !FINAL_CLOSE_CODES.has(e.code),
    });
    this.#socket.addEventListener('open', () => void this.#connected());
    this.#socket.addEventListener('message', (e) => this.#channel?.receive(e.data));
    this.#socket.addEventListener('close', (e) => {
      this.#channel?.ended(`socket closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`);
      this.#channel = null;
      if (FINAL_CLOSE_CODES.has(e.code))
        this.events.emit('error', { code: `close_${e.code}`, message: e.reason || 'the room refused this connection' });
      this.#setStatus(this.#closing ? 'closed' : 'offline');
    });
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
      this.#tellInterest(this.link);
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

  /** After a session: our opt-ins, allow-list and watch list, in frames of at most listItems. */
  #tellInterest(link: Link): void {
    const self = this.options.keys.identity;
    const replica = this.options.replica;
    const watched = replica.watched().filter((i) => i !== self);
    link.send({ type: 'visibility', ...this.options.visibility });
    const allowed = watched.filter((i) => allows(replica.reasons(i)));
    for (let i = 0; i < allowed.length; i += LIMITS.listItems) link.send({ type: 'allow', add: allowed.slice(i, i + LIMITS.listItems) });
    for (let i = 0; i < watched.length; i += LIMITS.listItems) link.send({ type: 'watch', add: watched.slice(i, i + LIMITS.listItems) });
  }

  /** The watch list changed: the room hears the delta (a new session sends it all anyway). */
  #reasonsChanged(identity: Identity, reasons: readonly WatchReason[]): void {
    if (!this.link || identity === this.options.keys.identity) return;
    const watched = reasons.length > 0;
    this.link.send({ type: 'watch', ...(watched ? { add: [identity] } : { remove: [identity] }) });
    this.link.send({ type: 'allow', ...(allows(reasons) ? { add: [identity] } : { remove: [identity] }) });
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

  /** Drop the connection and dial again now (the app's "retry", or a network change). */
  reconnect(): void {
    this.#socket.reconnect(1000, 'reconnect');
  }

  close(): void {
    this.#closing = true;
    this.#offReasons();
    this.#socket.close(1000, 'bye');
    this.link?.close('bye');
  }
}
