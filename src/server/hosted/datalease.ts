/**
 * The data-lease service (design: Data Leasing; docs/hosted.md §3): the room
 * holds an identity's feed for a period and serves it while the owner's
 * devices are offline — the server becomes a pub for that identity.
 *
 *   client → room: call {id, service: "datalease", identity: I, head: H, seconds}
 *   room → client: get_feed {id: q, identity: I, from, known, limit}   (repeated: lease-pull.ts)
 *   client → room: entries {re: q, identity: I, entries}
 *   room → client: lease {re: id, identity: I, head: H, expires}       | error
 *
 * A call with the lease's own head only renews it. Otherwise the room pulls
 * the feed from the calling socket, staging entries as they arrive, then
 * commits in one transaction (lease-store.ts): the committed entries of an
 * identity are always exactly the chain from its lease's head to the root,
 * and a failed pull leaves nothing visible.
 *
 * The service is on request, granted by the operator's policy (grants.ts).
 * Anyone may read a leased feed: `get_feed`, `iwant` and `getblob` are
 * answered by the blobs service, `get_heads` by head tracking, both through
 * the room's hosted storage (serve.ts).
 */
import type { WireOf } from '../../protocol/index.ts';
import type { Conn } from '../room/conn.ts';
import { RequestError } from '../room/requests.ts';
import type { RoomApi, RoomService } from '../room/service.ts';
import { claimPull, commitLease, leasesHeld, liveLease, releasePull, renewLease } from './lease-store.ts';
import { PullError, pullFeed, type Pull } from './lease-pull.ts';
import { decideGrant, leaseQuotaRefusal } from './grants.ts';
import { HOSTED_LIMITS } from './limits.ts';
import { expandDirectories, recordRefs } from './refs.ts';
import { mayLease } from './synods.ts';

/** Renews the lease, or pulls `msg.head` and commits it. Answers the lease's expiry. */
async function takeLease(room: RoomApi, conn: Conn, msg: WireOf<'call'>, pullId: string): Promise<number> {
  const db = room.bindings.DB;
  const started = Date.now();
  const expires = started + msg.seconds * 1000;
  const live = await liveLease(db, msg.identity, started);
  if (live && live.head === msg.head && (await renewLease(db, msg.identity, msg.head, conn.identity, expires, started))) {
    return Math.max(live.expires_at, expires);
  }
  const pull: Pull = {
    db,
    identity: msg.identity,
    head: msg.head,
    live,
    id: pullId,
    started,
    ask: (request) => ask(room, conn, { type: 'get_feed', ...request }),
  };
  const pulled = await pullFeed(pull);
  await recordRefs(db, msg.identity, pulled.refs);
  const now = Date.now();
  const expiry = await commitLease(db, { identity: msg.identity, head: pulled.head, holder: conn.identity, expires, pull: pullId }, now);
  if (pulled.directories.length > 0) await expandDirectories(room.bindings, pulled.directories, now);
  // A leased synod feed tells head tracking of its revocations (docs/protocol.md §9.6).
  for (const r of pulled.revocations) await room.heads.revoke(msg.identity, r.device, r.cut);
  return expiry;
}

/** The room's get_feed to the calling socket, its failures told as the pull's. */
async function ask(room: RoomApi, conn: Conn, request: WireOf<'get_feed'>) {
  try {
    return await room.request(conn, request, HOSTED_LIMITS.pullAnswerMs);
  } catch (err) {
    if (!(err instanceof RequestError)) throw err;
    throw new PullError(
      'unavailable',
      err.kind === 'closed'
        ? 'the calling device disconnected during the pull'
        : `no entries answered get_feed for ${request.identity} from ${request.from} within ${HOSTED_LIMITS.pullAnswerMs} ms: the calling device must serve its feed (get_feed) to the room`,
    );
  }
}

/** A refusal before any pull starts, or null when the call may go ahead. */
async function refusal(
  room: RoomApi,
  conn: Conn,
  msg: WireOf<'call'>,
  running: number,
  now: number,
): Promise<[PullError['code'], string] | null> {
  const caller = conn.identity;
  if (!(await mayLease(room, caller, msg.identity, now))) {
    return [
      'forbidden',
      `${caller} may not lease ${msg.identity}: a session leases its own feed, its synod's, or a device's of its synod (docs/hosted.md)`,
    ];
  }
  const overQuota = await leaseQuotaRefusal(room, conn, msg.identity, now);
  if (overQuota) return [overQuota.code, overQuota.message];
  const held = await leasesHeld(room.bindings.DB, caller, msg.identity, now);
  if (held >= HOSTED_LIMITS.leasesPerHolder) return ['quota', `${caller} holds ${held} leases here, the most one identity may hold`];
  if (running >= HOSTED_LIMITS.pullsPerSocket) {
    return ['unavailable', `at most ${HOSTED_LIMITS.pullsPerSocket} leases are taken at once per connection; wait for an answer`];
  }
  return null;
}

/** The service, with the pulls running on each of this room's sockets. */
export function datalease(): RoomService {
  const running = new WeakMap<Conn, number>();
  return {
    name: 'datalease',
    offer: 'on_request',
    grant: (room, conn, msg) => decideGrant(room, conn, msg, 'datalease'),
    handlers: {
      async call(room, conn, msg) {
        const db = room.bindings.DB;
        const now = Date.now();
        const refused = await refusal(room, conn, msg, running.get(conn) ?? 0, now);
        if (refused) return room.fail(conn, ...refused, msg.id);
        const pullId = crypto.randomUUID();
        if (!(await claimPull(db, msg.identity, pullId, now))) {
          room.fail(conn, 'unavailable', `a lease of ${msg.identity} is being taken right now; call again when it is answered`, msg.id);
          return;
        }
        running.set(conn, (running.get(conn) ?? 0) + 1);
        // Not awaited: the pull needs this socket's next frames (entries), which queue behind this handler.
        void takeLease(room, conn, msg, pullId)
          .then(
            (expires) => room.reply(conn, msg, { type: 'lease', identity: msg.identity, head: msg.head, expires }),
            (err: unknown) => {
              if (err instanceof PullError) return room.fail(conn, err.code, err.message, msg.id);
              console.error('datalease: pull failed', err);
              room.fail(conn, 'internal', 'the lease could not be stored', msg.id);
            },
          )
          .finally(async () => {
            running.set(conn, Math.max(0, (running.get(conn) ?? 1) - 1));
            await releasePull(db, msg.identity, pullId).catch(() => {});
          });
      },
    },
  };
}
