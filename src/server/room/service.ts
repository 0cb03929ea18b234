/**
 * A room service is a small module: a name from the protocol's service list,
 * the message types it handles, and optional hooks. The room's core knows
 * only sessions, service discovery and this interface; adding a service
 * (dropbox, data lease) means writing one such module and listing it in
 * services.ts.
 */
import type { Identity, Service, WireErrorCode, WireMessage, WireOf, WireType } from '../../protocol/index.ts';
import type { Env } from '../env.ts';
import type { Conn } from './conn.ts';
import type { Presence } from './presence.ts';

/** What a service may do with the room. */
export interface RoomApi {
  /** The object's SQLite storage (synchronous API). */
  readonly sql: SqlStorage;
  /** The Worker's bindings (D1, R2, vars). */
  readonly bindings: Env;
  readonly presence: Presence;
  /** The room's own identity, as sent in its session_request. */
  readonly identity: Identity;
  send(conn: Conn, message: WireMessage): void;
  /**
   * Sends `error {code, message, re}`. A strike (by default: the code's, see
   * STRIKES in limits.ts) counts toward closing an abusive socket.
   */
  fail(conn: Conn, code: WireErrorCode, message: string, re?: string, strike?: boolean): void;
  /** Sends one message to every authenticated socket, but those `skip` answers true for. */
  broadcast(message: WireMessage, skip?: (conn: Conn) => boolean): void;
  close(conn: Conn, code: number, reason: string): void;
}

export type Handler<K extends WireType> = (room: RoomApi, conn: Conn, message: WireOf<K>) => void | Promise<void>;
export type Handlers = { [K in WireType]?: Handler<K> };

export interface RoomService {
  readonly name: Service;
  /** "default": every socket gets it at authentication; "on_request": only after request_service. */
  readonly offer: 'default' | 'on_request';
  /** Create its tables (CREATE ... IF NOT EXISTS): runs once each time the object starts. */
  init?(sql: SqlStorage): void;
  /** Message types it answers; a type belongs to at most one service. Only authenticated sockets reach these. */
  readonly handlers?: Handlers;
  /** A socket authenticated (presence already includes it; `provides` was sent). */
  onJoin?(room: RoomApi, conn: Conn, change: { first: boolean; headChanged: boolean }): void;
  /** An authenticated socket left; `last` when no socket of its identity remains. */
  onLeave?(room: RoomApi, conn: Conn, last: boolean): void;
}

export interface Registry {
  readonly services: readonly RoomService[];
  readonly byType: ReadonlyMap<WireType, { service: RoomService; handler: Handler<WireType> }>;
  readonly defaults: readonly Service[];
  offers(name: Service): boolean;
}

export function buildRegistry(services: readonly RoomService[]): Registry {
  const byType = new Map<WireType, { service: RoomService; handler: Handler<WireType> }>();
  const names = new Set<Service>();
  for (const service of services) {
    if (names.has(service.name)) throw new Error(`service ${service.name} listed twice`);
    names.add(service.name);
    for (const [type, handler] of Object.entries(service.handlers ?? {}) as [WireType, Handler<WireType>][]) {
      const owner = byType.get(type);
      if (owner) throw new Error(`${type} is handled by both ${owner.service.name} and ${service.name}`);
      byType.set(type, { service, handler });
    }
  }
  return {
    services,
    byType,
    defaults: services.filter((s) => s.offer === 'default').map((s) => s.name),
    offers: (name) => names.has(name),
  };
}
