/**
 * The sockets one shard holds, and when it next wakes. Hibernation drops the
 * object's memory but keeps its sockets, so a socket's Conn is rebuilt on
 * first use from its attachment, and the alarm is the one timer that
 * survives; this bookkeeping is the same whichever lifecycle hook (room.ts)
 * touches a socket, so it lives here once.
 */
import { canonicalEndpoint, newChallenge, type Identity } from '../../protocol/index.ts';
import { clientAddress } from '../client-ip.ts';
import { Conn, readAttachment } from './conn.ts';
import { granted, type RoomCore } from './service.ts';

export class Sockets {
  readonly #ctx: DurableObjectState;
  readonly #room: RoomCore;
  readonly #conns = new Map<WebSocket, Conn>();
  /** The scheduled alarm as far as this instance knows; undefined until read from storage. */
  #alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, room: RoomCore) {
    this.#ctx = ctx;
    this.#room = room;
  }

  /** The Conns this instance has met (since it last woke). */
  held(): Iterable<Conn> {
    return this.#conns.values();
  }

  /** Every socket the object holds, as Conns: a socket without an attachment yet is left out. */
  all(): Conn[] {
    return this.#ctx.getWebSockets().flatMap((ws) => this.adopt(ws) ?? []);
  }

  /** A new socket, routed here for `routed`: its attachment written first, so it survives a hibernation from the start. */
  open(ws: WebSocket, request: Request, routed: Identity, now: number): Conn {
    const ip = clientAddress(request.headers); // budgets per address: the room's and the hosted services'
    const att = {
      v: 1,
      phase: 'hello',
      connectedAt: now,
      endpoint: canonicalEndpoint(request.url),
      serverChallenge: newChallenge(),
      routed,
      sid: crypto.randomUUID(),
      ...(ip && { ip }),
    } as const;
    const conn = new Conn(ws, att, now);
    ws.serializeAttachment(conn.att);
    this.#conns.set(ws, conn);
    return conn;
  }

  /** The Conn for a socket, rebuilt from its attachment after a wake-up. */
  adopt(ws: WebSocket): Conn | undefined {
    const known = this.#conns.get(ws);
    if (known) return known;
    const att = readAttachment(ws);
    if (!att) return undefined;
    const conn = new Conn(ws, att, Date.now());
    this.#conns.set(ws, conn);
    if (conn.authed) this.#room.presence.add(conn);
    return conn;
  }

  /** The socket closed or failed: adopted first, so a socket closing right after a wake-up still departs. */
  closed(ws: WebSocket): void {
    const conn = this.#conns.get(ws) ?? this.adopt(ws);
    if (conn && !conn.closed) this.depart(conn);
    this.#conns.delete(ws);
  }

  /** Takes a socket out of the room: its pending requests, presence, then the services' leave hooks (offline). */
  depart(conn: Conn): void {
    const room = this.#room;
    this.#conns.delete(conn.ws);
    room.requests.drop(conn);
    if (!conn.authed) return;
    const last = room.presence.remove(conn);
    for (const service of room.registry.services) {
      if (granted(conn, service)) service.onLeave?.(room, conn, last);
    }
  }

  /** Wake the object by `at`: an alarm already due sooner stands (one alarm per object). */
  async wakeBy(at: number): Promise<void> {
    if (this.#alarmAt === undefined) this.#alarmAt = await this.#ctx.storage.getAlarm();
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    await this.#ctx.storage.setAlarm(at);
  }

  /** The alarm fired: none is scheduled until the next wakeBy. */
  woke(): void {
    this.#alarmAt = null;
  }
}
