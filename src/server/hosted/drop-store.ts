/**
 * Storing a drop within its budgets (docs/hosted.md §1.1), in one statement
 * so concurrent drops cannot overshoot them:
 *
 * - per target: dropsPerTarget drops and dropBytesPerTarget bytes; once
 *   that is full, drops from identities the target follows (its leased
 *   feed's follows, or its devices' when it is a synod) still get through,
 *   up to trustedReserve more;
 * - per sender: dropsPerSender / dropBytesPerSender everywhere, and
 *   dropsPerSenderPerTarget for one target;
 * - per client address: DROPS_PER_IP / DROP_BYTES_PER_IP everywhere, and
 *   dropsPerIpPerTarget for one target (not for the target's friends);
 * - the server: DROP_BYTES_TOTAL.
 *
 * A refusal says which of the sender's own budgets it hit, and otherwise
 * only that the target or the server cannot take more: never how many drops
 * wait for anyone else. The figures go to the log.
 */
import type { Entry, Identity } from '../../protocol/index.ts';
import { HOSTED_LIMITS } from './limits.ts';
import type { HostedSettings } from './settings.ts';

export interface DropRequest {
  entry: Entry;
  target: Identity;
  sender: Identity;
  /** The client address's budget key, or null (no per-address budget). */
  ip: string | null;
  expires: number;
  now: number;
}

/** The limits one insert is checked against. */
interface Limits {
  targetDrops: number;
  targetBytes: number;
  ipPerTarget: number;
}

const NONE = Number.MAX_SAFE_INTEGER;

/** The statements that store `d` if every budget allows it, and count its bytes for the server (one batch). */
function insertStatements(db: D1Database, d: DropRequest, s: HostedSettings, l: Limits): D1PreparedStatement[] {
  const L = HOSTED_LIMITS;
  return [
    db
      .prepare(
        `INSERT OR IGNORE INTO drops (hash, target, sender, entry, size, created_at, expires_at, ip)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
         FROM (SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM drops WHERE target = ?2 AND expires_at > ?6) t,
              (SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM drops WHERE sender = ?3 AND expires_at > ?6) s,
              (SELECT COUNT(*) AS n FROM drops WHERE target = ?2 AND sender = ?3 AND expires_at > ?6) st,
              (SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM drops WHERE ip = ?8 AND ?8 != '' AND expires_at > ?6) i,
              (SELECT COUNT(*) AS n FROM drops WHERE ip = ?8 AND ?8 != '' AND target = ?2 AND expires_at > ?6) it,
              (SELECT COALESCE(MAX(bytes), 0) AS b FROM usage_totals WHERE scope = 'drops') u
         WHERE t.n < ?9 AND t.b + ?5 <= ?10
           AND s.n < ?11 AND s.b + ?5 <= ?12 AND st.n < ?13
           AND i.n < ?14 AND i.b + ?5 <= ?15 AND it.n < ?16
           AND u.b + ?5 <= ?17`,
      )
      .bind(
        d.entry.hash,
        d.target,
        d.sender,
        d.entry.text,
        d.entry.size,
        d.now,
        d.expires,
        d.ip ?? '',
        l.targetDrops,
        l.targetBytes,
        L.dropsPerSender,
        L.dropBytesPerSender,
        L.dropsPerSenderPerTarget,
        s.DROPS_PER_IP,
        s.DROP_BYTES_PER_IP,
        l.ipPerTarget,
        s.DROP_BYTES_TOTAL,
      ),
    // Counted once, when the statement above made the row.
    db
      .prepare(
        "UPDATE usage_totals SET bytes = bytes + ?1, items = items + 1 WHERE scope = 'drops' AND EXISTS (SELECT 1 FROM drops WHERE hash = ?2 AND target = ?3 AND created_at = ?4)",
      )
      .bind(d.entry.size, d.entry.hash, d.target, d.now),
  ];
}

async function tryInsert(db: D1Database, d: DropRequest, s: HostedSettings, l: Limits): Promise<boolean> {
  const [inserted] = await db.batch(insertStatements(db, d, s, l));
  return (inserted?.meta.changes ?? 0) > 0;
}

/** Where a drop stands against each budget, for the refusal and the log. */
interface Use {
  target: { n: number; b: number };
  sender: { n: number; b: number };
  senderTarget: number;
  ip: { n: number; b: number };
  ipTarget: number;
  total: number;
}

async function useOf(db: D1Database, d: DropRequest): Promise<Use> {
  const row = await db
    .prepare(
      `SELECT
         (SELECT COUNT(*) FROM drops WHERE target = ?1 AND expires_at > ?4) AS tn,
         (SELECT COALESCE(SUM(size), 0) FROM drops WHERE target = ?1 AND expires_at > ?4) AS tb,
         (SELECT COUNT(*) FROM drops WHERE sender = ?2 AND expires_at > ?4) AS sn,
         (SELECT COALESCE(SUM(size), 0) FROM drops WHERE sender = ?2 AND expires_at > ?4) AS sb,
         (SELECT COUNT(*) FROM drops WHERE target = ?1 AND sender = ?2 AND expires_at > ?4) AS stn,
         (SELECT COUNT(*) FROM drops WHERE ip = ?3 AND ?3 != '' AND expires_at > ?4) AS ipn,
         (SELECT COALESCE(SUM(size), 0) FROM drops WHERE ip = ?3 AND ?3 != '' AND expires_at > ?4) AS ipb,
         (SELECT COUNT(*) FROM drops WHERE ip = ?3 AND ?3 != '' AND target = ?1 AND expires_at > ?4) AS iptn,
         (SELECT COALESCE(MAX(bytes), 0) FROM usage_totals WHERE scope = 'drops') AS total`,
    )
    .bind(d.target, d.sender, d.ip ?? '', d.now)
    .first<Record<string, number>>();
  const r = row ?? {};
  const n = (k: string) => Number(r[k] ?? 0);
  return {
    target: { n: n('tn'), b: n('tb') },
    sender: { n: n('sn'), b: n('sb') },
    senderTarget: n('stn'),
    ip: { n: n('ipn'), b: n('ipb') },
    ipTarget: n('iptn'),
    total: n('total'),
  };
}

export type Stored = { ok: true } | { ok: false; message: string };

/** Refusals that concern the sender's own drops (or its network's, or the server): said plainly. */
const OWN = {
  sender: `this identity has its most drops waiting here (${HOSTED_LIMITS.dropsPerSender} drops or ${HOSTED_LIMITS.dropBytesPerSender} bytes); wait until some are collected or expire`,
  sender_target: `this identity has its most drops waiting for this target (${HOSTED_LIMITS.dropsPerSenderPerTarget}); wait until they are collected or expire`,
  address: 'drops left from this network have reached its limit here; wait until some are collected or expire',
  server: "this server's dropbox is full; try another of the target's dropboxes",
} as const;
/** The target's own figures are nobody else's business. */
const TARGET_FULL = "this target's dropbox cannot take more drops now; try again later or reach them another way";

/**
 * Stores the drop if its budgets allow; `trusted` is asked only when the
 * target's own limits (or the address's for this target) are what stands
 * in the way, and answers whether the target follows the sender.
 */
export async function storeDrop(db: D1Database, d: DropRequest, s: HostedSettings, trusted: () => Promise<boolean>): Promise<Stored> {
  const L = HOSTED_LIMITS;
  const normal: Limits = { targetDrops: L.dropsPerTarget, targetBytes: L.dropBytesPerTarget, ipPerTarget: L.dropsPerIpPerTarget };
  if (await tryInsert(db, d, s, normal)) return { ok: true };
  const use = await useOf(db, d);
  const size = d.entry.size;
  const hit: keyof typeof OWN | 'target' =
    use.sender.n >= L.dropsPerSender || use.sender.b + size > L.dropBytesPerSender
      ? 'sender'
      : use.senderTarget >= L.dropsPerSenderPerTarget
        ? 'sender_target'
        : d.ip && (use.ip.n >= s.DROPS_PER_IP || use.ip.b + size > s.DROP_BYTES_PER_IP)
          ? 'address'
          : use.total + size > s.DROP_BYTES_TOTAL
            ? 'server'
            : 'target';
  console.log(`dropbox: refused (${hit})`, JSON.stringify({ size, ...use }));
  const targetSide = hit === 'target';
  if (targetSide && (await trusted())) {
    const reserve: Limits = {
      targetDrops: L.dropsPerTarget + L.trustedReserve,
      targetBytes: L.dropBytesPerTarget + L.trustedReserveBytes,
      ipPerTarget: NONE,
    };
    if (await tryInsert(db, d, s, reserve)) return { ok: true };
  }
  return { ok: false, message: hit === 'target' ? TARGET_FULL : OWN[hit] };
}

/**
 * Does any of `followers` (a target and, for a synod, its devices) follow
 * `sender` in its leased feed, with no later block of it?
 */
export async function follows(db: D1Database, followers: readonly Identity[], sender: Identity, now = Date.now()): Promise<boolean> {
  if (followers.length === 0) return false;
  const row = await db
    .prepare(
      `SELECT 1 AS yes FROM leased_entries f JOIN leases l ON l.identity = f.identity
       WHERE f.subject = ?1 AND f.kind = 'follow' AND f.pull IS NULL AND l.expires_at > ?2
         AND f.identity IN (SELECT value FROM json_each(?3))
         AND NOT EXISTS (SELECT 1 FROM leased_entries b WHERE b.subject = ?1 AND b.kind = 'block' AND b.identity = f.identity
                           AND b.pull IS NULL AND b.comparable > f.comparable)
       LIMIT 1`,
    )
    .bind(sender, now, JSON.stringify(followers))
    .first<{ yes: number }>();
  return row !== null;
}
