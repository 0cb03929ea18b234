/**
 * One WebSocket in a room. What must survive hibernation lives in the
 * socket's attachment (a small JSON object, serialized on every change) or,
 * for its watch list, in SQLite under the attachment's `sid`; the rate-limit
 * counters live only in memory: after a wake-up, which only happens to an
 * idle room, they start full again.
 */
import type { Hash, Identity, Service } from '../../protocol/index.ts';
import { ROOM_LIMITS, TokenBucket, WindowCounter } from './limits.ts';

export type Phase =
  /** Server sent its session_request; waiting for the client's. */
  | 'hello'
  /** Client's session_request received, server's session_auth sent; waiting for the client's session_auth. */
  | 'requested'
  | 'authed'
  /** The room closed this socket; it only awaits the close handshake. */
  | 'closed';

export interface Attachment {
  v: 1;
  phase: Phase;
  connectedAt: number;
  /** The client address's budget key (client-ip.ts), for the room's and the hosted services' per-address budgets; never sent to anyone. */
  ip?: string;
  /** canonicalEndpoint of the URL the socket was opened at; dropped after auth. */
  endpoint?: string;
  /** The room's challenge to this socket; dropped after auth. */
  serverChallenge?: string;
  /** The client's challenge; dropped after auth. */
  clientChallenge?: string;
  /** The identity the URL named (docs/protocol.md §13.8 rule 2); dropped after auth. */
  routed?: Identity;
  identity?: Identity;
  /** The head the client claimed in session_request, or the newest head the room accepted for it since. */
  head?: Hash | null;
  authedAt?: number;
  /** Services the client said it provides. */
  provides?: Service[];
  /** Services this socket may use. */
  granted?: Service[];
  /** The member account (synod) this socket proved under a "members" grant policy (hosted/grants.ts): its lease quota applies. */
  member?: Identity;
  /** A random id keying the socket's watch list in SQLite (interest.ts). */
  sid?: string;
  /** About when the socket last sent a frame (idle.ts; written at most every idleMs/8). */
  seenAt?: number;
  /** When the room last pinged the socket for being silent (idle.ts). */
  pingedAt?: number;
}

export class Conn {
  readonly bucket: TokenBucket;
  readonly errors = new WindowCounter(ROOM_LIMITS.abuseWindowMs);
  readonly dropped = new WindowCounter(ROOM_LIMITS.abuseWindowMs);
  /** Frames of one socket are handled one after another, even across awaits. */
  queue: Promise<void> = Promise.resolve();
  /** The socket's watch list: each identity with the version of the last change it heard of it (interest.ts). */
  readonly watching = new Map<Identity, number>();

  constructor(
    readonly ws: WebSocket,
    public att: Attachment,
    now: number,
  ) {
    this.bucket = new TokenBucket(ROOM_LIMITS.ratePerSecond, ROOM_LIMITS.rateBurst, now);
  }

  get authed(): boolean {
    return this.att.phase === 'authed';
  }

  get closed(): boolean {
    return this.att.phase === 'closed';
  }

  /** The authenticated identity. Only call on an authed socket. */
  get identity(): Identity {
    if (!this.att.identity || this.att.phase !== 'authed') throw new Error('socket is not authenticated');
    return this.att.identity;
  }

  update(patch: Partial<Attachment>): void {
    this.att = { ...this.att, ...patch };
    for (const key of Object.keys(patch) as (keyof Attachment)[]) {
      if (patch[key] === undefined) delete this.att[key];
    }
    this.ws.serializeAttachment(this.att);
  }
}

/** The attachment of a socket, or null if it carries none the room wrote. */
export function readAttachment(ws: WebSocket): Attachment | null {
  const att = ws.deserializeAttachment() as Attachment | null;
  return att && att.v === 1 ? att : null;
}
