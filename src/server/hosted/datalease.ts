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
 * and a failed pull leaves nothing visible. The terms — longest lease,
 * largest feed, leases per holder — and the budgets per client address and
 * for the server are the operator's (settings.ts).
 *
 * Anyone may read a leased feed: `get_feed`, `iwant` and `getblob` are
 * answered by the blobs service, `get_heads` by head tracking, both through
 * the room's hosted storage (serve.ts).
 */
import type { Identity, WireOf } from '../../protocol/index.ts';
import type { Conn } from '../room/conn.ts';
import { RequestError } from '../room/requests.ts';
import type { RoomApi, RoomService } from '../room/service.ts';
import { claimPull, commitLease, leaseUse, liveLease, releasePull, renewLease } from './lease-store.ts';
import { PullError, pullFeed, type Pull } from './lease-pull.ts';
import { HOSTED_LIMITS } from './limits.ts';
import { isMember, synodOfConn, UNPROVEN } from './membership.ts';
import { expandDirectories, recordRefs } from './refs.ts';
import { hostedSettings, type HostedSettings } from './settings.ts';

/**
 * May the socket lease `identity`'s feed? Its own; its synod's; a device's of
 * its synod, or of the synod it is. Membership is proven (membership.ts), so
 * the socket may be asked to show its synod's chain: never call this from
 * inside the socket's own handler.
 */
async function mayLease(room: RoomApi, conn: Conn, identity: Identity): Promise<boolean> {
  const caller = conn.identity;
  if (caller === identity) return true;
  const synod = await synodOfConn(room, conn, true);
  if (synod === identity) return true;
  if (synod && synod !== UNPROVEN && (await isMember(room, synod, identity, { pull: false })) === true) return true;
  return (await isMember(room, caller, identity, { prover: conn, pull: true })) === true;
}

/** Renews the lease, or pulls `msg.head` and commits it. Answers the lease's expiry. */
async function takeLease(room: RoomApi, conn: Conn, msg: WireOf<'call'>, pullId: string, settings: HostedSettings): Promise<number> {
  const db = room.bindings.DB;
  const started = Date.now();
  // The operator's longest term: a longer call is granted this much, as `expires` tells.
  const expires = started + Math.min(msg.seconds, settings.LEASE_MAX_SECONDS) * 1000;
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
    limits: { entries: settings.LEASE_MAX_ENTRIES, bytes: settings.LEASE_MAX_BYTES },
    ask: (request) => ask(room, conn, { type: 'get_feed', ...request }),
  };
  const pulled = await pullFeed(pull);
  const ip = conn.att.ip ?? null;
  const use = await leaseUse(db, conn.identity, msg.identity, ip, Date.now());
  const over = budgetRefusal(settings, use, (live?.bytes ?? 0) + pulled.bytes, pulled.bytes, ip);
  if (over) throw new PullError('quota', over);
  await recordRefs(db, msg.identity, pulled.refs);
  const now = Date.now();
  const expiry = await commitLease(
    db,
    { identity: msg.identity, head: pulled.head, holder: conn.identity, ip, expires, pull: pullId, live },
    now,
  );
  if (pulled.directories.length > 0) await expandDirectories(room.bindings, pulled.directories, now);
  return expiry;
}

/** Which budget a lease of `bytes` (`added` of them new) would pass, in words that name nobody else's data; or null. */
function budgetRefusal(
  settings: HostedSettings,
  use: { ip: number; total: number },
  bytes: number,
  added: number,
  ip: string | null,
): string | null {
  if (ip && use.ip + bytes > settings.LEASE_BYTES_PER_IP) return 'leases taken from this network have used up its budget here';
  if (use.total + added > settings.LEASE_BYTES_TOTAL) return "this server's lease storage is full";
  return null;
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
  settings: HostedSettings,
): Promise<[PullError['code'], string] | null> {
  const caller = conn.identity;
  if (!(await mayLease(room, conn, msg.identity))) {
    return [
      'forbidden',
      `${caller} may not lease ${msg.identity}: a session leases its own feed, its synod's, or a device's of its synod (docs/hosted.md §3.1)`,
    ];
  }
  const ip = conn.att.ip ?? null;
  const use = await leaseUse(room.bindings.DB, caller, msg.identity, ip, Date.now());
  if (use.held >= settings.LEASES_PER_HOLDER)
    return ['quota', `this identity holds ${use.held} leases here, the most one identity may hold`];
  const over = budgetRefusal(settings, use, 0, 0, ip);
  if (over) return ['quota', over];
  return null;
}

/** The service, with the pulls running on each of this room's sockets. */
export function datalease(): RoomService {
  const running = new WeakMap<Conn, number>();
  return {
    name: 'datalease',
    offer: 'default',
    handlers: {
      call(room, conn, msg) {
        if ((running.get(conn) ?? 0) >= HOSTED_LIMITS.pullsPerSocket) {
          room.fail(
            conn,
            'unavailable',
            `at most ${HOSTED_LIMITS.pullsPerSocket} leases are taken at once per connection; wait for an answer`,
            msg.id,
          );
          return;
        }
        running.set(conn, (running.get(conn) ?? 0) + 1);
        const db = room.bindings.DB;
        const settings = hostedSettings(room.bindings);
        const pullId = crypto.randomUUID();
        let claimed = false;
        // Not awaited: the checks and the pull need this socket's next frames (its synod's chain, entries), which queue behind this handler.
        void (async () => {
          const refused = await refusal(room, conn, msg, settings);
          if (refused) return room.fail(conn, ...refused, msg.id);
          if (!(await claimPull(db, msg.identity, pullId, Date.now()))) {
            return room.fail(
              conn,
              'unavailable',
              `a lease of ${msg.identity} is being taken right now; call again when it is answered`,
              msg.id,
            );
          }
          claimed = true;
          const expires = await takeLease(room, conn, msg, pullId, settings);
          room.reply(conn, msg, { type: 'lease', identity: msg.identity, head: msg.head, expires });
        })()
          .catch((err: unknown) => {
            if (err instanceof PullError) return room.fail(conn, err.code, err.message, msg.id);
            console.error('datalease: pull failed', err);
            room.fail(conn, 'internal', 'the lease could not be stored', msg.id);
          })
          .finally(async () => {
            running.set(conn, Math.max(0, (running.get(conn) ?? 1) - 1));
            if (claimed) await releasePull(db, msg.identity, pullId).catch(() => {});
          });
      },
    },
  };
}
