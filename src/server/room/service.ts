/**
 * A room service is a small module: a name, the message types it handles,
 * and optional hooks. Every message type the room answers belongs to exactly
 * one service, so one table routes every frame (dispatch.ts); the session
 * and service discovery are services too, open to sockets not yet
 * authenticated or not granted anything. Adding a service (a protocol
 * service of docs/protocol.md §13.2) means writing one such module and
 * listing it in room.ts.
 */
import type { Identity, KeyPair, Service, WireErrorCode, WireMessage, WireOf, WireType } from '../../protocol/index.ts';
import type { Env } from '../env.ts';
import type { Conn } from './conn.ts';
import type { LagProbe } from './limits.ts';
import type { Presence } from './presence.ts';
import type { Requests } from './requests.ts';
import type { HostedStorage, TrackedHeads } from './storage.ts';
import type { Watchers } from './watchers.ts';

/** What a service may do with the room. */
export interface RoomApi {
  /** The object's SQLite storage (synchronous API). */
  readonly sql: SqlStorage;
  /** The Worker's bindings (D1, R2, vars). */
  readonly bindings: Env;
  /** The identities with sockets at this shard. */
  readonly presence: Presence;
  /** Watch lists, allow-lists and who hears of whom, across the room's shards (watchers.ts). */
  readonly watchers: Watchers;
  /** The heads this room tracks, at every shard (headtracking.ts). */
  readonly heads: TrackedHeads;
  /** What every room of the deployment stores (src/server/hosted/). */
  readonly hosted: HostedStorage;
  /** The room's own identity, as sent in its session_request. */
  readonly identity: Identity;
  send(conn: Conn, message: WireMessage): void;
  /** Sends the answer to `request`, carrying its id as `re` when it had one. */
  reply(conn: Conn, request: { readonly id?: string | undefined }, answer: WireMessage): void;
  /**
   * Sends `error {code, message, re}`. A strike (by default: the codes in
   * STRIKES, limits.ts) counts toward closing an abusive socket.
   */
  fail(conn: Conn, code: WireErrorCode, message: string, re?: string, strike?: boolean): void;
  /** A drop was stored: every shard tells the collectors it holds (hosted/dropbox.ts); answers the identities told. */
  dropArrived(notice: WireOf<'drops'>['drops'][number]): Promise<Identity[]>;
  close(conn: Conn, code: number, reason: string): void;
  /** Asks the socket something and waits for the answer that carries the request's id (requests.ts). */
  request(conn: Conn, message: WireMessage, timeoutMs: number): Promise<WireMessage>;
}

/** What the session and service discovery need beyond what services see. */
export interface RoomCore extends RoomApi {
  readonly keys: KeyPair;
  /** How far behind the room runs: the rate limit allows for it (limits.ts). */
  readonly lag: LagProbe;
  readonly registry: Registry;
  /** The room's requests awaiting answers. */
  readonly requests: Requests;
  /** The socket proved its identity: make it present. */
  join(conn: Conn): void;
}

/** Why a request_service is refused: a wire code and a text that names no one else's data. */
export interface Refusal {
  readonly code: Extract<WireErrorCode, 'forbidden' | 'quota' | 'unavailable' | 'bad_entry'>;
  readonly message: string;
}

export type Handler<K extends WireType, Api = RoomApi> = (room: Api, conn: Conn, message: WireOf<K>) => void | Promise<void>;
export type Handlers<Api = RoomApi> = { [K in WireType]?: Handler<K, Api> };

interface Parts<Api> {
  /** Create its tables (CREATE ... IF NOT EXISTS): runs once each time the object starts. */
  init?(sql: SqlStorage): void;
  /** Message types it answers; a type belongs to at most one service. */
  readonly handlers?: Handlers<Api>;
  /**
   * The socket joined the service: at authentication for a service granted
   * then (presence already includes it; `provides` was sent), or later when
   * request_service granted it (`change` is then all false).
   */
  onJoin?(room: Api, conn: Conn, change: { first: boolean; headChanged: boolean }): void;
  /**
   * Message types every authenticated socket may send without the service
   * granted: the dropbox's `drop`, since a stranger must be able to leave a
   * message even where collecting is on request.
   */
  readonly open?: readonly WireType[];
  /**
   * An on_request service decides each request_service: null grants it,
   * a refusal says why (docs/room.md §4, Services on request).
   */
  grant?(room: Api, conn: Conn, request: WireOf<'request_service'>): Promise<Refusal | null>;
  /** An authenticated socket left; `last` when no socket of its identity remains. */
  onLeave?(room: Api, conn: Conn, last: boolean): void;
}

export type RoomService<Api = RoomApi> = Parts<Api> &
  (
    | {
        /** The room's own parts: not a protocol service, never listed in `provides`. */
        readonly name: 'session' | 'discovery';
        /** "anyone": every socket, before authentication too; "authed": every authenticated socket. */
        readonly offer: 'anyone' | 'authed';
      }
    | {
        readonly name: Service;
        /** "default": every socket gets it at authentication; "on_request": only after request_service. */
        readonly offer: 'default' | 'on_request';
      }
  );

export interface Route {
  readonly service: RoomService<RoomCore>;
  readonly handler: Handler<WireType, RoomCore>;
  /** Any authenticated socket may send it, granted or not (`open`). */
  readonly open: boolean;
}

export interface Registry {
  readonly services: readonly RoomService<RoomCore>[];
  readonly byType: ReadonlyMap<WireType, Route>;
  /** Services granted to every socket at authentication. */
  readonly defaults: readonly Service[];
  /** Whether a socket may request_service `name`. */
  offers(name: Service): boolean;
  /** The protocol service named `name`, if the room runs it. */
  service(name: Service): RoomService<RoomCore> | undefined;
}

/** Whether an authenticated socket may use `service`: the room's own parts always, a protocol service once granted. */
export function granted(conn: Conn, service: RoomService<RoomCore>): boolean {
  if (service.offer === 'default' || service.offer === 'on_request') return conn.att.granted?.includes(service.name) ?? false;
  return true;
}

export function buildRegistry(services: readonly RoomService<RoomCore>[]): Registry {
  const byType = new Map<WireType, Route>();
  const names = new Set<string>();
  const offered = new Set<Service>();
  const defaults: Service[] = [];
  for (const service of services) {
    if (names.has(service.name)) throw new Error(`service ${service.name} listed twice`);
    names.add(service.name);
    if (service.offer === 'default' || service.offer === 'on_request') offered.add(service.name);
    if (service.offer === 'default') defaults.push(service.name);
    for (const [type, handler] of Object.entries(service.handlers ?? {}) as [WireType, Handler<WireType, RoomCore>][]) {
      const owner = byType.get(type);
      if (owner) throw new Error(`${type} is handled by both ${owner.service.name} and ${service.name}`);
      byType.set(type, { service, handler, open: service.open?.includes(type) ?? false });
    }
  }
  return {
    services,
    byType,
    defaults,
    offers: (name) => offered.has(name),
    service: (name) => services.find((s) => s.name === name),
  };
}
