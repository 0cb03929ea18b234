/**
 * One shard of a room: a Durable Object holding hibernatable WebSockets of
 * the identities homed here (docs/room.md §9), and the composition root of
 * the room: the services it runs, and the storage they read (its own heads
 * table, the other shards by RPC, the deployment's hosted storage).
 *
 * Lifecycle (the shape of PartyKit's partyserver): onStart when the object
 * starts or wakes (tables, the room's key, presence rebuilt from the sockets'
 * attachments, the watch indexes from SQLite), onConnect per upgrade (greet
 * with a challenge, arm the auth timeout), onMessage per frame
 * (room/dispatch.ts), onClose per socket. The RPC methods at the end are
 * what the other shards call (room/shards.ts). The sockets it holds (each
 * Conn rebuilt from its attachment after a wake-up) and its one alarm are
 * kept in room/sockets.ts.
 */
import { DurableObject } from 'cloudflare:workers';
import {
  CLOSE,
  encodeWire,
  trustedEntry,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
  type WireErrorCode,
  type WireMessage,
  type WireOf,
} from '../protocol/index.ts';
import { clientAddress } from './client-ip.ts';
import type { Env } from './env.ts';
import { datalease } from './hosted/datalease.ts';
import { dropbox, notifyPresent } from './hosted/dropbox.ts';
import { meteredD1 } from './hosted/metered-d1.ts';
import { hostedStorage } from './hosted/serve.ts';
import { addressTag, admit, heldAt, overCap } from './room/admission.ts';
import { blobs } from './room/blobs.ts';
import type { Conn } from './room/conn.ts';
import { discovery } from './room/discovery.ts';
import { handleFrame } from './room/dispatch.ts';
import { HeadTable, headtracking, shardedHeads } from './room/headtracking.ts';
import { seen, sweepIdle } from './room/idle.ts';
import { initInterestTables } from './room/interest.ts';
import { LagProbe, ROOM_LIMITS, roomShards, STRIKES } from './room/limits.ts';
import { Presence } from './room/presence.ts';
import { relaying } from './room/relaying.ts';
import { roomSettings, type RoomSettings } from './room/settings.ts';
import { Requests } from './room/requests.ts';
import type { Revocation } from './room/revocations.ts';
import { buildRegistry, granted, type Registry, type RoomCore, type RoomService } from './room/service.ts';
import { closeLate, greet, loadServerKeys, roomSeed, session } from './room/session.ts';
import { parseShardName, shardName, Shards, type Op, type OpResult, type ShardRpc } from './room/shards.ts';
import { signalling } from './room/signalling.ts';
import { Sockets } from './room/sockets.ts';
import type { HeadEntry, HostedStorage, PutResult, TrackedHead, TrackedHeads } from './room/storage.ts';
import { Watchers } from './room/watchers.ts';

/**
 * The services a room runs, in the order their hooks run: each owns the
 * message types it handles (docs/room.md §4). To add one, write a RoomService
 * (room/service.ts) and list it here.
 */
function roomServices(): RoomService<RoomCore>[] {
  return [session, discovery, signalling, headtracking, relaying, blobs, dropbox, datalease()];
}

type DropNotice = WireOf<'drops'>['drops'][number];

export class Room extends DurableObject<Env> implements RoomCore, ShardRpc {
  readonly sql: SqlStorage;
  readonly presence = new Presence();
  readonly registry: Registry = buildRegistry(roomServices());
  readonly requests = new Requests();
  readonly lag = new LagProbe();
  readonly shards: Shards;
  readonly watchers: Watchers;
  readonly heads: TrackedHeads;
  readonly hosted: HostedStorage;
  readonly settings: RoomSettings;
  /** A fresh value per instance: tests use it to see that an eviction really happened. */
  readonly bootId: string = crypto.randomUUID();
  /** Frames and RPC calls this instance handled, and what its D1 queries cost (ROOM_STATS, bench/room.bench.ts). */
  readonly handled = { frames: 0, rpc: 0, d1Read: 0, d1Written: 0, d1Bytes: 0 };
  /** The bindings services see: with ROOM_STATS, D1 metered. */
  readonly #bindings: Env;
  #keys: KeyPair | undefined;
  readonly #table: HeadTable;
  readonly #sockets: Sockets;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.#sockets = new Sockets(ctx, this);
    const where = parseShardName(ctx.id.name ?? '');
    if (!where) throw new Error(`a room shard is named "<room>/<shard>", not ${JSON.stringify(ctx.id.name)}`);
    const stubOf = (shard: number) => env.ROOM.get(env.ROOM.idFromName(shardName(where.room, shard))) as unknown as ShardRpc;
    this.shards = new Shards(where.room, where.shard, roomShards(env, where.room), stubOf);
    this.settings = roomSettings(env);
    this.#table = new HeadTable(this.sql);
    const claimOf = (identity: Identity) => this.#table.get(identity)?.synod ?? null;
    this.watchers = new Watchers(
      this.sql,
      this.presence,
      () => this.shards,
      (conn, m) => this.send(conn, m),
      claimOf,
    );
    this.heads = shardedHeads(
      this.#table,
      () => this.shards,
      (entry) => this.#headStored(entry),
    );
    this.#bindings = env.ROOM_STATS === '1' ? { ...env, DB: meteredD1(env.DB, this.handled) } : env;
    this.hosted = hostedStorage(this.#bindings);
    // Keepalives are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
    void ctx.blockConcurrencyWhile(() => this.onStart());
  }

  get keys(): KeyPair {
    if (!this.#keys) throw new Error('room keys not loaded');
    return this.#keys;
  }

  get bindings(): Env {
    return this.#bindings;
  }

  get identity(): Identity {
    return this.keys.identity;
  }

  // ---- lifecycle ----

  async onStart(): Promise<void> {
    for (const service of this.registry.services) service.init?.(this.sql);
    initInterestTables(this.sql);
    // The room has one identity: shard 0 makes its key, the others copy it once.
    this.#keys = await loadServerKeys(this.sql, this.shards.self === 0 ? undefined : () => this.shards.stub(0).roomSeed());
    this.watchers.rebuild(this.#sockets.all().filter((c) => c.authed));
  }

  override async fetch(request: Request): Promise<Response> {
    const routed = admit(
      request,
      (identity) => this.shards.isLocal(identity),
      heldAt(this.#sockets.held(), this.presence, (tag) => this.ctx.getWebSockets(tag).length),
      this.settings,
    );
    if (routed instanceof Response) return routed;
    const { 0: client, 1: server } = new WebSocketPair();
    const ip = clientAddress(request.headers);
    this.ctx.acceptWebSocket(server, ip ? [addressTag(ip)] : []);
    await this.onConnect(server, request, routed);
    return new Response(null, { status: 101, webSocket: client });
  }

  async onConnect(ws: WebSocket, request: Request, routed: Identity): Promise<void> {
    const now = Date.now();
    greet(this, this.#sockets.open(ws, request, routed, now));
    await this.#sockets.wakeBy(now + ROOM_LIMITS.authTimeoutMs);
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    this.handled.frames++;
    const conn = this.#sockets.adopt(ws);
    if (!conn || conn.closed) return;
    seen(conn, Date.now(), this.settings.idleMs);
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
    this.#sockets.closed(ws);
  }

  /** Closes sockets that did not authenticate in time, and idle ones (room/idle.ts); forgets old challenges. */
  override async alarm(): Promise<void> {
    this.#sockets.woke();
    const now = Date.now();
    const conns = this.#sockets.all();
    const autoResponseAt = (conn: Conn) => this.ctx.getWebSocketAutoResponseTimestamp(conn.ws)?.getTime() ?? 0;
    const next = Math.min(closeLate(this, conns, now), sweepIdle(this, conns, now, this.settings.idleMs, autoResponseAt));
    const watched = (identity: Identity) =>
      this.presence.has(identity) || !this.watchers.interest.subscribersOf(identity)[Symbol.iterator]().next().done;
    this.#table.prune(now, this.settings.headTtlMs, watched);
    if (next < Infinity) await this.#sockets.wakeBy(next);
  }

  // ---- RoomCore ----

  join(conn: Conn): void {
    const refusal = overCap(this.presence, this.settings, conn.att.identity!);
    if (refusal) {
      this.fail(conn, 'unavailable', refusal, undefined, false);
      this.close(conn, CLOSE.roomFull, refusal.slice(0, 120));
      return;
    }
    conn.update({
      phase: 'authed',
      authedAt: Date.now(),
      granted: [...this.registry.defaults],
      endpoint: undefined,
      serverChallenge: undefined,
      clientChallenge: undefined,
      routed: undefined,
    });
    const change = this.presence.add(conn);
    void this.#sockets.wakeBy(Date.now() + this.settings.idleMs / 2);
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

  close(conn: Conn, code: number, reason: string): void {
    if (conn.closed) return;
    this.#sockets.depart(conn);
    conn.update({ phase: 'closed' });
    try {
      conn.ws.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  async dropArrived(notice: DropNotice): Promise<Identity[]> {
    const told = await Promise.all([
      notifyPresent(this, notice),
      ...this.shards.others().map((shard) => this.shards.stub(shard).notifyDrop(notice)),
    ]);
    return told.flat();
  }

  // ---- RPC: what the other shards of this room call (room/shards.ts) ----

  async exchange(ops: Op[]): Promise<OpResult[]> {
    this.handled.rpc++;
    return this.watchers.exchange(ops);
  }

  async headsOf(identities: Identity[]): Promise<TrackedHead[]> {
    this.handled.rpc++;
    return identities.flatMap((identity) => this.#table.get(identity) ?? []);
  }

  async putHead(hash: Hash, text: string): Promise<PutResult> {
    this.handled.rpc++;
    return this.#table.store(trustedEntry(hash, text), (entry) => this.#headStored(entry));
  }

  async revoke(synod: Identity, device: Identity, cut: number): Promise<void> {
    this.handled.rpc++;
    this.#table.revoke(synod, device, cut);
  }

  async revocationsOf(devices: Identity[]): Promise<Revocation[]> {
    this.handled.rpc++;
    return this.#table.revocations.of(devices);
  }

  async entriesOf(hashes: Hash[]): Promise<HeadEntry[]> {
    this.handled.rpc++;
    return this.#table.entries(hashes);
  }

  async notifyDrop(notice: DropNotice): Promise<Identity[]> {
    this.handled.rpc++;
    return notifyPresent(this, notice);
  }

  async roomSeed(): Promise<string> {
    this.handled.rpc++;
    return roomSeed(this.sql);
  }

  /** What this shard holds and handled (the Worker answers it when ROOM_STATS is on). */
  async stats(): Promise<Record<string, number>> {
    const out = this.shards.traffic();
    const sockets = this.ctx.getWebSockets().length;
    return { shard: this.shards.self, sockets, ...this.handled, rpcOut: out.calls, opsOut: out.ops, bytes: this.sql.databaseSize };
  }

  // ---- internals ----

  /**
   * A head stored at this shard: it is its identity's presence head too, and
   * the synod it names is one the identity claims. Answers who subscribes to it.
   */
  #headStored(entry: Entry): Identity[] {
    const identity = entry.body.identity;
    this.presence.setHead(identity, entry.hash);
    const synod = entry.body.synod?.[0];
    if (synod && this.presence.has(identity)) this.watchers.claims(identity, synod);
    return [...this.watchers.interest.subscribersOf(identity)];
  }
}
