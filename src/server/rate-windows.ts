/**
 * Fixed-window counters in D1, shared by every isolate and machine of a
 * deployment (an in-memory counter would count per isolate only): "at most
 * N of these per key per clock hour". One statement per key, batched, so a
 * check costs one D1 round trip; the scheduled cleanup drops past hours.
 */

export const RATE_PERIOD_MS = 3600_000;

/** The window `now` falls in. */
export const periodOf = (now: number): number => Math.floor(now / RATE_PERIOD_MS);

export interface RateCheck {
  /** Whether every key is still within its limit (this request counted). */
  ok: boolean;
  /** Seconds until the current window ends. */
  retryAfter: number;
}

/** Counts one event for each `[key, limit]` in the current hour. */
export async function countEvent(db: D1Database, keys: readonly (readonly [string, number])[], now = Date.now()): Promise<RateCheck> {
  const period = periodOf(now);
  const stmt = db.prepare(
    'INSERT INTO rate_windows (key, period, count) VALUES (?, ?, 1) ON CONFLICT (key, period) DO UPDATE SET count = count + 1 RETURNING count',
  );
  const results = await db.batch<{ count: number }>(keys.map(([key]) => stmt.bind(key, period)));
  const ok = keys.every(([, limit], i) => (results[i]?.results[0]?.count ?? Infinity) <= limit);
  return { ok, retryAfter: Math.max(1, Math.ceil(((period + 1) * RATE_PERIOD_MS - now) / 1000)) };
}
