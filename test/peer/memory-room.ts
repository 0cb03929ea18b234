/**
 * A room in memory for engine tests: the session handshake, presence by
 * interest and `message_to` by consent as docs/protocol.md §13.8 words them
 * (a W sees X when X is here, W watches X, and X allows W or chose
 * `anyone`; `message_to` reaches X when X allows the sender or chose
 * `strangers`), behind a WebSocket class that partysocket dials. The real
 * room (src/server) runs in workerd; this one lets the mesh's rules be
 * tested with many peers, fast, and records every frame each identity got.
 */
import { Channel } from '../../src/peer/channel.ts';
import { authenticate } from '../../src/peer/session.ts';
import {
  canonicalEndpoint,
  encodeWire,
  generateKeyPair,
  parseWire,
  type Hash,
  type Identity,
  type KeyPair,
  type WireMessage,
} from '../../src/protocol/index.ts';

class ServerEnd extends Channel {
  readonly kind = 'websocket' as const;
  constructor(readonly socket: FakeSocket) {
    super();
  }
  feed(frame: string): void {
    this.deliver(frame);
  }
  ended(reason: string): void {
    this.closedBy(reason);
  }
  protected transmit(frame: string): void {
    this.socket.fromServer(frame);
  }
  protected shutdown(): void {
    this.socket.serverClose(1000, 'bye');
  }
}

interface Conn {
  identity: Identity;
  head: Hash | null;
  channel: ServerEnd;
  watch: Set<Identity>;
  /** What this socket was told it sees, with the head it heard. */
  seen: Map<Identity, Hash | null>;
}

class FakeSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readyState = 0;
  binaryType = 'blob';
  readonly server: ServerEnd;

  constructor(
    readonly room: MemoryRoom,
    readonly url: string,
  ) {
    super();
    this.server = new ServerEnd(this);
    room.dials.push({ url, at: performance.now() });
    queueMicrotask(() => {
      if (room.down) return this.serverClose(1006, 'room down');
      this.readyState = 1;
      this.dispatchEvent(new Event('open'));
      room.accept(this);
    });
  }
  send(data: string): void {
    if (this.readyState !== 1) return;
    queueMicrotask(() => this.server.feed(data));
  }
  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.server.ended(`client closed ${code}`);
    queueMicrotask(() => this.dispatchEvent(Object.assign(new Event('close'), { code, reason })));
  }
  fromServer(frame: string): void {
    if (this.readyState !== 1) return;
    queueMicrotask(() => this.dispatchEvent(new MessageEvent('message', { data: frame })));
  }
  serverClose(code: number, reason: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.server.ended(reason);
    queueMicrotask(() => this.dispatchEvent(Object.assign(new Event('close'), { code, reason })));
  }
}

export class MemoryRoom {
  readonly url: string;
  readonly WebSocket: unknown;
  /** Every connection attempt: the URL (with its identity) and when. */
  readonly dials: { url: string; at: number }[] = [];
  /** Every frame the room sent each identity after its session. */
  readonly received = new Map<Identity, WireMessage[]>();
  /** Every frame each identity sent the room after its session. */
  readonly sent = new Map<Identity, WireMessage[]>();
  down = false;
  #keys: Promise<KeyPair> = generateKeyPair();
  #conns = new Set<Conn>();
  #allow = new Map<Identity, Set<Identity>>();
  /** The account (synod) each device's announced head names: watching the synod watches the device (§13.8 rule 8). */
  #claims = new Map<Identity, Identity>();
  #opts = new Map<Identity, { anyone: boolean; strangers: boolean }>();

  constructor(name = 'main') {
    this.url = `ws://memory.test/room/${name}`;
    const room = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string) {
        super(room, url);
      }
    };
  }

  async accept(socket: FakeSocket): Promise<void> {
    const claimed = new URL(socket.url).searchParams.get('identity');
    try {
      const session = await authenticate(socket.server, { keys: await this.#keys, endpoint: canonicalEndpoint(this.url), head: null });
      if (session.peer !== claimed) return socket.serverClose(4010, 'wrong shard');
      const conn: Conn = { identity: session.peer, head: session.peerHead, channel: socket.server, watch: new Set(), seen: new Map() };
      this.#conns.add(conn);
      session.channel.onClose = () => {
        this.#conns.delete(conn);
        if (![...this.#conns].some((c) => c.identity === conn.identity)) {
          this.#allow.delete(conn.identity);
          this.#opts.delete(conn.identity);
        }
        this.#recompute();
      };
      session.channel.read((frame) => this.#frame(conn, frame));
      this.#send(conn, { type: 'provides', services: ['signalling', 'relaying'] });
    } catch {
      socket.serverClose(4001, 'auth failed');
    }
  }

  present(identity: Identity): boolean {
    return [...this.#conns].some((c) => c.identity === identity);
  }

  /** Whether a socket of `watcher` has `x` on its watch list. */
  watching(watcher: Identity, x: Identity): boolean {
    return [...this.#conns].some((c) => c.identity === watcher && c.watch.has(x));
  }

  watchList(watcher: Identity): Identity[] {
    return [...([...this.#conns].find((c) => c.identity === watcher)?.watch ?? [])];
  }

  allows(x: Identity, watcher: Identity): boolean {
    return this.#allow.get(x)?.has(watcher) ?? false;
  }

  /** Whether the room ever told `watcher` anything about `x` (presence, offline or heads). */
  told(watcher: Identity, x: Identity): boolean {
    return (this.received.get(watcher) ?? []).some(
      (m) =>
        m.type === 'presence_list' &&
        (m.peers.some((p) => p.identity === x) || (m.offline ?? []).includes(x) || (m.heads ?? []).some(([i]) => i === x)),
    );
  }

  /** A deploy: every socket closed at once (1001), the room back at once. */
  restart(): void {
    for (const c of [...this.#conns]) c.channel.socket.serverClose(1001, 'restarting');
  }

  #send(conn: Conn, m: WireMessage): void {
    (this.received.get(conn.identity) ?? this.received.set(conn.identity, []).get(conn.identity)!).push(m);
    conn.channel.send(encodeWire(m));
  }

  #frame(conn: Conn, frame: string): void {
    const parsed = parseWire(frame);
    if (!parsed.ok) return;
    const m = parsed.value;
    (this.sent.get(conn.identity) ?? this.sent.set(conn.identity, []).get(conn.identity)!).push(m);
    const ok = () => m.id !== undefined && this.#send(conn, { type: 'ok', re: m.id });
    switch (m.type) {
      case 'watch':
        for (const i of m.remove ?? []) conn.watch.delete(i);
        for (const i of m.add ?? []) if (i !== conn.identity) conn.watch.add(i);
        ok();
        return this.#recompute();
      case 'allow': {
        const set = this.#allow.get(conn.identity) ?? new Set();
        for (const i of m.remove ?? []) set.delete(i);
        for (const i of m.add ?? []) set.add(i);
        this.#allow.set(conn.identity, set);
        ok();
        return this.#recompute();
      }
      case 'visibility':
        this.#opts.set(conn.identity, { anyone: m.anyone, strangers: m.strangers });
        ok();
        return this.#recompute();
      case 'online':
        for (const c of this.#conns) if (c.identity === conn.identity) c.head = m.head;
        ok();
        return this.#recompute();
      case 'message_to': {
        const to = [...this.#conns].filter((c) => c.identity === m.to && c !== conn);
        if (to.length === 0 || !this.#takes(m.to, conn.identity)) {
          if (m.id !== undefined)
            this.#send(conn, { type: 'error', re: m.id, code: 'not_present', message: `${m.to} is not in this room` });
          return;
        }
        for (const c of to) this.#send(c, { type: 'message_from', from: conn.identity, payload: m.payload });
        return void ok();
      }
      case 'get_heads':
        return this.#send(conn, { type: 'last_known_heads', re: m.id, heads: [] });
      case 'announce': {
        const body = JSON.parse(m.entry.slice(0, m.entry.lastIndexOf('\n'))) as { identity: Identity; synod: [Identity, Hash] | null };
        if (body.identity === conn.identity && body.synod) this.#claims.set(conn.identity, body.synod[0]);
        ok();
        return this.#recompute();
      }
      case 'ping':
        return this.#send(conn, { type: 'pong' });
      case 'provides':
      case 'ok':
      case 'pong':
        return;
      default:
        if (m.id !== undefined) this.#send(conn, { type: 'error', re: m.id, code: 'unavailable', message: `not in this room: ${m.type}` });
    }
  }

  #takes(target: Identity, from: Identity): boolean {
    return from === target || (this.#allow.get(target)?.has(from) ?? false) || (this.#opts.get(target)?.strangers ?? false);
  }

  #sees(watcher: Conn, x: Identity): boolean {
    const claimed = this.#claims.get(x);
    const watched = watcher.watch.has(x) || (claimed !== undefined && watcher.watch.has(claimed));
    return watched && ((this.#allow.get(x)?.has(watcher.identity) ?? false) || (this.#opts.get(x)?.anyone ?? false));
  }

  /** Tell every socket what changed in what it sees (one frame each, as a coalescing window would). */
  #recompute(): void {
    const heads = new Map<Identity, Hash | null>();
    for (const c of this.#conns) heads.set(c.identity, c.head);
    for (const w of this.#conns) {
      const peers: { identity: Identity; head: Hash | null }[] = [];
      const offline: Identity[] = [];
      for (const [x, head] of heads) {
        if (x === w.identity || !this.#sees(w, x)) continue;
        if (!w.seen.has(x) || w.seen.get(x) !== head) peers.push({ identity: x, head });
        w.seen.set(x, head);
      }
      for (const x of [...w.seen.keys()])
        if (!heads.has(x) || !this.#sees(w, x)) {
          w.seen.delete(x);
          offline.push(x);
        }
      if (peers.length || offline.length) this.#send(w, { type: 'presence_list', peers, ...(offline.length && { offline }) });
    }
  }
}
