/**
 * Push subscriptions in D1 (migrations/0004_push.sql), by the identity a push
 * is for: the device that registered, and its synod when it proved
 * membership. One registration writes a row per identity in one batch; the
 * budgets (endpoints per device, rows per client address) are checked in
 * the same statements, so concurrent registrations cannot overshoot them.
 */
import type { Identity, PushKind } from '../../protocol/index.ts';
import { PUSH_LIMITS } from './config.ts';

export interface Subscription {
  identity: Identity;
  endpoint: string;
  device: Identity;
  p256dh: string;
  auth: string;
  kinds: string;
}

export interface Registration {
  device: Identity;
  /** Identities the endpoint is woken for: the device first, then its synod. */
  identities: readonly Identity[];
  endpoint: string;
  p256dh: string;
  auth: string;
  kinds: readonly PushKind[];
  ip: string | null;
  now: number;
}

/** Store (or refresh) a registration; false when a budget is full (nothing changed). */
export async function register(db: D1Database, r: Registration): Promise<boolean> {
  const kinds = [...new Set(r.kinds)].sort().join(' ');
  const expires = r.now + PUSH_LIMITS.subscriptionMs;
  const ip = r.ip ?? '';
  // A refresh of an endpoint this device has already is always allowed; a new one must fit the budgets.
  const statements = r.identities.map((identity) =>
    db
      .prepare(
        `INSERT INTO push_subscriptions (identity, endpoint, device, p256dh, auth, kinds, ip, created_at, expires_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
         WHERE EXISTS (SELECT 1 FROM push_subscriptions WHERE device = ?3 AND endpoint = ?2)
            OR ((SELECT COUNT(DISTINCT endpoint) FROM push_subscriptions WHERE device = ?3 AND expires_at > ?8) < ?10
                AND (SELECT COUNT(*) FROM push_subscriptions WHERE ip = ?7 AND ?7 != '' AND expires_at > ?8) < ?11)
         ON CONFLICT (identity, endpoint) DO UPDATE SET
           device = excluded.device, p256dh = excluded.p256dh, auth = excluded.auth, kinds = excluded.kinds,
           ip = excluded.ip, expires_at = excluded.expires_at`,
      )
      .bind(
        identity,
        r.endpoint,
        r.device,
        r.p256dh,
        r.auth,
        kinds,
        ip,
        r.now,
        expires,
        PUSH_LIMITS.subscriptionsPerDevice,
        PUSH_LIMITS.subscriptionsPerIp,
      ),
  );
  // The device's own row first: when it did not fit, neither does the rest.
  const results = await db.batch(statements);
  return (results[0]?.meta.changes ?? 0) > 0;
}

/** Remove this device's rows for an endpoint (every identity it was registered for). */
export async function unregister(db: D1Database, device: Identity, endpoint: string): Promise<number> {
  const res = await db.prepare('DELETE FROM push_subscriptions WHERE device = ? AND endpoint = ?').bind(device, endpoint).run();
  return res.meta.changes ?? 0;
}

/** A push service said the endpoint is gone (404, 410): every row for it goes. */
export async function forget(db: D1Database, endpoint: string): Promise<void> {
  await db.prepare('DELETE FROM push_subscriptions WHERE endpoint = ?').bind(endpoint).run();
}

/** The live subscriptions woken for `identity` about `kind`. */
export async function subscriptionsFor(db: D1Database, identity: Identity, kind: PushKind, now = Date.now()): Promise<Subscription[]> {
  const rows = await db
    .prepare(
      `SELECT identity, endpoint, device, p256dh, auth, kinds FROM push_subscriptions
       WHERE identity = ? AND expires_at > ? AND (' ' || kinds || ' ') LIKE ? LIMIT ?`,
    )
    .bind(identity, now, `% ${kind} %`, PUSH_LIMITS.endpointsPerPush)
    .all<Subscription>();
  return rows.results;
}

/** The scheduled cleanup: subscriptions past their time (a device that stopped starting). */
export async function expireSubscriptions(db: D1Database, now = Date.now()): Promise<number> {
  const res = await db.prepare('DELETE FROM push_subscriptions WHERE expires_at <= ?').bind(now).run();
  return res.meta.changes ?? 0;
}
