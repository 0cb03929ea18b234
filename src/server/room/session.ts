/**
 * The session handshake (design: Startup), room side.
 *
 *   room → client: session_request {identity: room, head: null, challenge: S}   (on open)
 *   client → room: session_request {identity: C, head, challenge: K}
 *   room → client: session_auth {signSession(room, endpoint, peer C, S, K)}
 *   client → room: session_auth {signSession(C, endpoint, peer room, K, S)}
 *
 * The endpoint is canonicalEndpoint of the URL the socket was opened at, so a
 * signature made for one room (or one server) is useless at another. These
 * handlers, with `ping` and `error`, are the only ones a socket reaches before
 * it authenticates.
 */
import {
  CLOSE,
  fromBase64url,
  keyPairFromSeed,
  newChallenge,
  randomBytes,
  signSession,
  toBase64url,
  verifySession,
  type KeyPair,
  type WireOf,
} from '../../protocol/index.ts';
import type { Conn } from './conn.ts';
import { ROOM_LIMITS } from './limits.ts';
import type { RoomApi, RoomCore, RoomService } from './service.ts';

export function initSessionTables(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  sql.exec('CREATE TABLE IF NOT EXISTS challenges (challenge TEXT PRIMARY KEY, seen_at INTEGER NOT NULL)');
  sql.exec('CREATE INDEX IF NOT EXISTS challenges_seen_at ON challenges (seen_at)');
}

/** This shard's copy of the room's key seed, base64url, made on first use. */
export function roomSeed(sql: SqlStorage): string {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'server_seed'").toArray()[0];
  if (row && fromBase64url(row.value, 32).ok) return row.value;
  const seed = toBase64url(randomBytes(32));
  sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('server_seed', ?)", seed);
  return seed;
}

/**
 * The room's Ed25519 key, kept in the object's storage: made on first use
 * by shard 0; another shard asks shard 0 for it (`fetchSeed`) once and keeps
 * a copy, so the room has one identity whichever shard a client reaches.
 */
export async function loadServerKeys(sql: SqlStorage, fetchSeed?: () => Promise<string>): Promise<KeyPair> {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'server_seed'").toArray()[0];
  let text = row?.value;
  if (!text && fetchSeed) {
    text = await fetchSeed();
    sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('server_seed', ?)", text);
  }
  const seed = fromBase64url(text ?? roomSeed(sql), 32);
  if (!seed.ok) throw new Error(`the room's stored key seed is unreadable: ${seed.error.message}`);
  return keyPairFromSeed(seed.value);
}

/** Records a client challenge; false if the room saw it within ROOM_LIMITS.challengeMemoryMs. */
export function rememberChallenge(sql: SqlStorage, challenge: string, now: number): boolean {
  const cutoff = now - ROOM_LIMITS.challengeMemoryMs;
  const seen = sql.exec<{ seen_at: number }>('SELECT seen_at FROM challenges WHERE challenge = ?', challenge).toArray()[0];
  if (seen && seen.seen_at > cutoff) return false;
  sql.exec('INSERT OR REPLACE INTO challenges (challenge, seen_at) VALUES (?, ?)', challenge, now);
  return true;
}

export function forgetOldChallenges(sql: SqlStorage, now: number): void {
  sql.exec('DELETE FROM challenges WHERE seen_at <= ?', now - ROOM_LIMITS.challengeMemoryMs);
}

/**
 * The alarm's work: closes sockets that did not authenticate in time (4002)
 * and forgets old challenges. Answers when the next socket's time is up.
 */
export function closeLate(room: RoomApi, conns: readonly Conn[], now: number): number {
  let next = Infinity;
  for (const conn of conns) {
    if (conn.authed || conn.closed) continue;
    const deadline = conn.att.connectedAt + ROOM_LIMITS.authTimeoutMs;
    if (deadline <= now) {
      room.fail(conn, 'auth_timeout', `not authenticated within ${ROOM_LIMITS.authTimeoutMs} ms`);
      room.close(conn, CLOSE.authTimeout, 'authentication timeout');
    } else next = Math.min(next, deadline);
  }
  forgetOldChallenges(room.sql, now);
  return next;
}

/** First frame on a new socket: the room introduces itself and challenges the client. */
export function greet(room: RoomApi, conn: Conn): void {
  room.send(conn, { type: 'session_request', identity: room.identity, head: null, challenge: conn.att.serverChallenge! });
}

async function onSessionRequest(room: RoomCore, conn: Conn, msg: WireOf<'session_request'>): Promise<void> {
  if (conn.att.phase !== 'hello') {
    room.fail(conn, 'auth_failed', 'one session_request per connection', msg.id);
    room.close(conn, CLOSE.authFailed, 'second session_request');
    return;
  }
  if (conn.att.routed !== undefined && msg.identity !== conn.att.routed) {
    room.fail(conn, 'wrong_shard', `the room URL named ${conn.att.routed}; dial /room/<name>?identity=${msg.identity}`, msg.id);
    room.close(conn, CLOSE.wrongShard, 'wrong shard');
    return;
  }
  if (msg.challenge === conn.att.serverChallenge || !rememberChallenge(room.sql, msg.challenge, Date.now())) {
    room.fail(conn, 'auth_failed', 'challenge replayed: this room has seen it before; send 32 fresh random bytes', msg.id);
    room.close(conn, CLOSE.authFailed, 'replayed challenge');
    return;
  }
  conn.update({ phase: 'requested', identity: msg.identity, head: msg.head, clientChallenge: msg.challenge });
  const signature = await signSession(room.keys, {
    endpoint: conn.att.endpoint!,
    peer: msg.identity,
    signerChallenge: conn.att.serverChallenge!,
    peerChallenge: msg.challenge,
  });
  if (!conn.closed) room.reply(conn, msg, { type: 'session_auth', signature });
}

/** Answers true once the client proved its key. */
async function verifyClient(room: RoomApi, conn: Conn, msg: WireOf<'session_auth'>): Promise<boolean> {
  if (conn.att.phase === 'authed') {
    room.fail(conn, 'auth_failed', 'this socket is already authenticated: one session per connection', msg.id, true);
    return false;
  }
  if (conn.att.phase !== 'requested') {
    room.fail(conn, 'unauthenticated', 'send session_request before session_auth', msg.id);
    return false;
  }
  const valid = await verifySession(
    {
      endpoint: conn.att.endpoint!,
      signer: conn.att.identity!,
      peer: room.identity,
      signerChallenge: conn.att.clientChallenge!,
      peerChallenge: conn.att.serverChallenge!,
    },
    msg.signature,
  );
  if (conn.closed) return false;
  if (!valid) {
    room.fail(conn, 'auth_failed', `signature does not verify for ${conn.att.identity} at ${conn.att.endpoint}`, msg.id);
    room.close(conn, CLOSE.authFailed, 'authentication failed');
    return false;
  }
  return true;
}

export const session: RoomService<RoomCore> = {
  name: 'session',
  offer: 'anyone',
  init: initSessionTables,
  handlers: {
    session_request: onSessionRequest,
    async session_auth(room, conn, msg) {
      if (await verifyClient(room, conn, msg)) room.join(conn);
    },
    ping(room, conn, msg) {
      room.reply(conn, msg, { type: 'pong' });
    },
    // An error needs no answer; the room's own requests get theirs before any service (dispatch.ts).
    error() {},
  },
};
