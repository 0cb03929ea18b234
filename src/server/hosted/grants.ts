/**
 * Services on request (docs/room.md §4, docs/hosted.md "Who may use the
 * services"): a room offers `datalease` and collecting from the `dropbox`
 * only to a socket that asks with `request_service`, and grants them by the
 * operator's policy in wrangler.toml vars:
 *
 *   DATALEASE_GRANT, DROPBOX_GRANT   "everyone" (the default), "members" or "allowlist"
 *   GRANT_MEMBERS                    member accounts (synods), each with its lease quota: "@S1=8 @S2"
 *   GRANT_ALLOW                      identities allowed: "@A @B"
 *
 * "members": the session is a listed synod, or shows (`member`) the listed
 * synod's `add_device` entry that admitted it, with its membership proof
 * (§9.1), and the room knows no revocation of it by that synod. The leases
 * of a member account's feeds together stay within its quota.
 * "allowlist": the session identity is listed.
 *
 * A refusal carries a wire code and a text that names nobody's data: not the
 * lists, not who is on them. An unreadable policy refuses (`unavailable`):
 * a typo must not open a server to everyone.
 */
import { parseIdentity, verifySender, type Identity, type WireOf } from '../../protocol/index.ts';
import type { Env } from '../env.ts';
import type { Conn } from '../room/conn.ts';
import type { Refusal, RoomApi } from '../room/service.ts';

export type OnRequest = 'datalease' | 'dropbox';
export type GrantPolicy = 'everyone' | 'members' | 'allowlist';

/** A member account's lease quota when GRANT_MEMBERS gives none. */
export const DEFAULT_MEMBER_LEASES = 16;

export interface Grants {
  readonly policy: GrantPolicy | null;
  /** Member synods and their lease quotas. */
  readonly members: ReadonlyMap<Identity, number>;
  readonly allow: ReadonlySet<Identity>;
}

const words = (text: string | undefined): string[] => (text ?? '').split(/[\s,]+/).filter(Boolean);

const cache = new Map<string, Grants>();

/** The policy for `service`, read from the deployment's vars (parsed once per distinct value). */
export function grantsFor(env: Env, service: OnRequest): Grants {
  const vars = env;
  const raw = (service === 'datalease' ? vars.DATALEASE_GRANT : vars.DROPBOX_GRANT)?.trim() || 'everyone';
  const key = [raw, vars.GRANT_MEMBERS ?? '', vars.GRANT_ALLOW ?? ''].join('\n');
  const hit = cache.get(key);
  if (hit) return hit;
  const members = new Map<Identity, number>();
  for (const word of words(vars.GRANT_MEMBERS)) {
    const [id, quota] = word.split('=');
    const identity = parseIdentity(id ?? '');
    const n = quota === undefined ? DEFAULT_MEMBER_LEASES : Number(quota);
    if (identity.ok && Number.isSafeInteger(n) && n >= 0) members.set(identity.value, n);
    else console.error(`GRANT_MEMBERS: "${word}" is not "@identity" or "@identity=<leases>"; ignored`);
  }
  const allow = new Set<Identity>();
  for (const word of words(vars.GRANT_ALLOW)) {
    const identity = parseIdentity(word);
    if (identity.ok) allow.add(identity.value);
    else console.error(`GRANT_ALLOW: "${word}" is not an identity; ignored`);
  }
  const policy = raw === 'everyone' || raw === 'members' || raw === 'allowlist' ? raw : null;
  if (!policy) console.error(`${service.toUpperCase()}_GRANT is "${raw}": not everyone, members or allowlist; ${service} is refused`);
  const grants: Grants = { policy, members, allow };
  if (cache.size > 16) cache.clear();
  cache.set(key, grants);
  return grants;
}

/** The member synod `conn` proves with `card` (or is), or a refusal. */
async function memberSynod(
  room: RoomApi,
  conn: Conn,
  grants: Grants,
  card: string | undefined,
  service: OnRequest,
): Promise<{ synod: Identity } | { refusal: Refusal }> {
  const identity = conn.identity;
  if (grants.members.has(identity)) return { synod: identity };
  if (card === undefined) {
    return {
      refusal: {
        code: 'forbidden',
        message: `this server grants ${service} to the devices of its member accounts: ask with member, your account's add_device entry`,
      },
    };
  }
  const sender = await verifySender({ device: card }, identity);
  if (!sender.ok) return { refusal: { code: 'bad_entry', message: `member: ${sender.error.code}: ${sender.error.message}` } };
  const synod = sender.value.synod;
  if (!grants.members.has(synod)) {
    return { refusal: { code: 'forbidden', message: `this server grants ${service} to its member accounts only` } };
  }
  const revoked = (await room.heads.revocations([identity])).some((r) => r.synod === synod);
  if (revoked) return { refusal: { code: 'forbidden', message: 'your account revoked this device' } };
  return { synod };
}

/** The `grant` of an on-request service: null grants it (and records the member account), a refusal says why. */
export async function decideGrant(room: RoomApi, conn: Conn, msg: WireOf<'request_service'>, service: OnRequest): Promise<Refusal | null> {
  const grants = grantsFor(room.bindings, service);
  switch (grants.policy) {
    case 'everyone':
      return null;
    case 'allowlist':
      return grants.allow.has(conn.identity)
        ? null
        : { code: 'forbidden', message: `this server grants ${service} to the identities its operator allows only` };
    case 'members': {
      const proven = await memberSynod(room, conn, grants, msg.member, service);
      if ('refusal' in proven) return proven.refusal;
      conn.update({ member: proven.synod });
      return null;
    }
    default:
      return { code: 'unavailable', message: `this server's policy for ${service} is misconfigured; its operator has been told` };
  }
}

/**
 * Under "members", the leases of one member account's feeds (the synod's and
 * those claiming it) stay within its quota; renewing or moving a lease it
 * holds is always allowed. Null when the call may go ahead.
 */
export async function leaseQuotaRefusal(room: RoomApi, conn: Conn, identity: Identity, now: number): Promise<Refusal | null> {
  const grants = grantsFor(room.bindings, 'datalease');
  const synod = conn.att.member;
  if (grants.policy !== 'members' || !synod) return null;
  const quota = grants.members.get(synod) ?? 0;
  const row = await room.bindings.DB.prepare(
    `SELECT COUNT(*) AS n, COALESCE(SUM(l.identity = ?), 0) AS held
     FROM leases l LEFT JOIN leased_entries e ON e.hash = l.head
     WHERE l.expires_at > ? AND (l.identity = ? OR e.synod = ?)`,
  )
    .bind(identity, now, synod, synod)
    .first<{ n: number; held: number }>();
  if ((row?.held ?? 0) > 0 || (row?.n ?? 0) < quota) return null;
  return { code: 'quota', message: `your account holds ${row?.n ?? 0} leases here, its quota` };
}
