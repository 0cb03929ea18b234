/**
 * One room per name: a Durable Object holding hibernatable WebSockets, and
 * the composition root of the room: the services it runs, and the storage
 * they read (its own heads table, the deployment's hosted storage).
 *
 * Lifecycle (the shape of PartyKit's partyserver): onStart when the object
 * starts or wakes (tables, the room's key, presence rebuilt from the sockets'
 * attachments), onConnect per upgrade (greet with a challenge, arm the auth
 * timeout), onMessage per frame (room/dispatch.ts), onClose per socket.
 */
import { DurableObject } from 'cloudflare:workers';
import {
  canonicalEndpoint,
  CLOSE,
  encodeWire,
  newChallenge,
  type Identity,
  type KeyPair,
  type WireErrorCode,
  type WireMessage,
} from '../protocol/index.ts';
import { clientAddress } from './client-ip.ts';
import type { Env } from './env.ts';
import { datalease } from './hosted/datalease.ts';
import { dropbox } from './hosted/dropbox.ts';
import { hostedStorage } from './hosted/serve.ts';
import { errorResponse } from './http.ts';
import { blobs } from './room/blobs.ts';
import { Conn, readAttachment } from './room/conn.ts';
import { discovery } from './room/discovery.ts';
import { handleFrame } from './room/dispatch.ts';
import { headtracking, trackedHeads } from './room/headtracking.ts';
import { ROOM_LIMITS, STRIKES } from './room/limits.ts';
import { Presence } from './room/presence.ts';
import { relaying } from './room/relaying.ts';
import { Requests } from './room/requests.ts';
import { buildRegistry, granted, type Registry, type RoomCore, type RoomService } from './room/service.ts';
import { forgetOldChallenges, greet, loadServerKeys, session } from './room/session.ts';
import { signalling } from './room/signalling.ts';
import type { HostedStorage, TrackedHeads } from './room/storage.ts';

/**
 * The services a room runs, in the order their hooks run: each owns the
 * message types it handles (docs/room.md §4). To add one, write a RoomService
 * (room/service.ts) and list it here.
 */
function roomServices(): RoomService<RoomCore>[] {
  return [session, discovery, signalling, headtracking, relaying, blobs, dropbox, datalease()];
}

export class Room extends DurableObject<Env> implements RoomCore {
  readonly sql: SqlStorage;
  readonly presence = new Presence();
  readonly registry: Registry = buildRegistry(roomServices());
  readonly requests = new Requests();
  readonly heads: TrackedHeads;
  readonly hosted: HostedStorage;
  /** A fresh value per instance: tests use it to see that an eviction really happened. */
  readonly bootId: string = crypto.randomUUID();
  #keys: KeyPair | undefined;
  readonly #conns = new Map<WebSocket, Conn>();
  /** The scheduled alarm as far as this instance knows; undefined until read from storage. */
  #alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.heads = trackedHeads(this.sql);
    this.hosted = hostedStorage(env);
    // Keepalives are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
    void ctx.blockConcurrencyWhile(() => this.onStart());
  }

  get keys(): KeyPair {
    if (!this.#keys) throw new Error('room keys not loaded');
    return this.#keys;
  }

  get bindings(): Env {
    return this.env;
  }

  get identity(): Identity {
    return this.keys.identity;
  }

  // ---- lifecycle ----

  async onStart(): Promise<void> {
    for (const service of this.registry.services) service.init?.(this.sql);
    this.#keys = await loadServerKeys(this.sql);
    for (const ws of this.ctx.getWebSockets()) this.#adopt(ws);
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return errorResponse(426, 'upgrade_required', 'expected a WebSocket upgrade');
    }
    const { 0: client, 1: server } = new WebSocketPair();
    if (this.ctx.getWebSockets().length >= ROOM_LIMITS.maxConnections) {
      // Accepted outside the hibernation set (so it does not count) and closed at once:
      // a browser sees the close code and reason, where a refused upgrade is an opaque failure.
      server.accept();
      const message = `this room holds at most ${ROOM_LIMITS.maxConnections} connections`;
      server.send(encodeWire({ type: 'error', code: 'unavailable', message }));
      server.close(CLOSE.roomFull, 'room full');
      return new Response(null, { status: 101, webSocket: client });
    }
    this.ctx.acceptWebSocket(server);
    await this.onConnect(server, request);
    return new Response(null, { status: 101, webSocket: client });
  }

  async onConnect(ws: WebSocket, request: Request): Promise<void> {
    const now = Date.now();
    const ip = clientAddress(request.headers); // the hosted services' per-address budgets
    const conn = new Conn(
      ws,
      {
        v: 1,
        phase: 'hello',
        connectedAt: now,
        endpoint: canonicalEndpoint(request.url),
        serverChallenge: newChallenge(),
        ...(ip && { ip }),
      },
      now,
    );
    ws.serializeAttachment(conn.att);
    this.#conns.set(ws, conn);
    greet(this, conn);
    await this.#scheduleAlarm(now + ROOM_LIMITS.authTimeoutMs);
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const conn = this.#adopt(ws);
    if (!conn || conn.closed) return;
    await handleFrame(this, conn, data);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.onClose(ws);
    // Answer the peer's close frame so it sees a clean close, not 1006.
    // 1005/1006 are reserved (no code / abnormal) and may not be sent back.
    try {
      if (code === 1005 || code === 1006) ws.close();
      else ws.close(code, reason);
    } catch {
      // Already closed (the runtime may answer close frames itself).
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.onClose(ws);
  }

  onClose(ws: WebSocket): void {
    const conn = this.#conns.get(ws) ?? this.#adopt(ws);
    if (conn && !conn.closed) this.#depart(conn);
    this.#conns.delete(ws);
  }

  /** Closes sockets that did not authenticate in time; forgets old challenges. */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const now = Date.now();
    let next = Infinity;
    for (const ws of this.ctx.getWebSockets()) {
      const conn = this.#adopt(ws);
      if (!conn || conn.authed || conn.closed) continue;
      const deadline = conn.att.connectedAt + ROOM_LIMITS.authTimeoutMs;
      if (deadline <= now) {
        this.fail(conn, 'auth_timeout', `not authenticated within ${ROOM_LIMITS.authTimeoutMs} ms`);
        this.close(conn, CLOSE.authTimeout, 'authentication timeout');
      } else {
        next = Math.min(next, deadline);
      }
    }
    forgetOldChallenges(this.sql, now);
    if (next < Infinity) await this.#scheduleAlarm(next);
  }

  // ---- RoomCore ----

  join(conn: Conn): void {
    conn.update({
      phase: 'authed',
      authedAt: Date.now(),
      granted: [...this.registry.defaults],
      endpoint: undefined,
      serverChallenge: undefined,
      clientChallenge: undefined,
    });
    const change = this.presence.add(conn);
    this.send(conn, { type: 'provides', services: conn.att.granted ?? [] });
    for (const service of this.registry.services) {
      if (granted(conn, service)) service.onJoin?.(this, conn, change);
    }
  }

  send(conn: Conn, message: WireMessage): void {
    if (conn.closed) return;
    let text: string;
    try {
      text = encodeWire(message);
    } catch (err) {
      console.error('room: unsendable message', message.type, err);
      return;
    }
    try {
      conn.ws.send(text);
    } catch {
      // The socket is going away; its close event cleans up.
    }
  }

  reply(conn: Conn, request: { readonly id?: string | undefined }, answer: WireMessage): void {
    this.send(conn, request.id ? { ...answer, re: request.id } : answer);
  }

  request(conn: Conn, message: WireMessage, timeoutMs: number): Promise<WireMessage> {
    return this.requests.ask(conn, message, timeoutMs, (m) => this.send(conn, m));
  }

  fail(conn: Conn, code: WireErrorCode, message: string, re?: string, strike: boolean = STRIKES.has(code)): void {
    this.send(conn, { type: 'error', code, message: message.slice(0, 1000), ...(re ? { re } : {}) });
    if (strike && conn.errors.hit(Date.now()) >= ROOM_LIMITS.maxErrors) {
      this.close(conn, CLOSE.policy, 'too many errors');
    }
  }

  broadcast(message: WireMessage, skip?: (conn: Conn) => boolean): void {
    const text = encodeWire(message);
    for (const conn of this.#conns.values()) {
      if (!conn.authed || skip?.(conn)) continue;
      try {
        conn.ws.send(text);
      } catch {
        // As in send.
      }
    }
  }

  close(conn: Conn, code: number, reason: string): void {
    if (conn.closed) return;
    this.#depart(conn);
    conn.update({ phase: 'closed' });
    try {
      conn.ws.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  // ---- internals ----

  /** The Conn for a socket, rebuilt from its attachment after a wake-up. */
  #adopt(ws: WebSocket): Conn | undefined {
    const known = this.#conns.get(ws);
    if (known) return known;
    const att = readAttachment(ws);
    if (!att) return undefined;
    const conn = new Conn(ws, att, Date.now());
    this.#conns.set(ws, conn);
    if (conn.authed) this.presence.add(conn);
    return conn;
  }

  /** Takes a socket out of the room: its pending requests, presence, then the services' leave hooks (offline). */
  #depart(conn: Conn): void {
    this.#conns.delete(conn.ws);
    this.requests.drop(conn);
    if (!conn.authed) return;
    const last = this.presence.remove(conn);
    for (const service of this.registry.services) {
      if (granted(conn, service)) service.onLeave?.(this, conn, last);
    }
  }

  async #scheduleAlarm(at: number): Promise<void> {
    if (this.#alarmAt === undefined) this.#alarmAt = await this.ctx.storage.getAlarm();
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}
