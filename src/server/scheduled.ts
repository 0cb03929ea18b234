import type { Env } from './env.ts';
import { cleanup } from './hosted/cleanup.ts';
import { expireSubscriptions } from './push/subscriptions.ts';

/**
 * Cron entry point (wrangler.toml [triggers]): the hosted storage's TTL
 * sweep — expired drops, expired leases with their entries, unreferenced
 * blobs (D1 rows and R2 objects) — in bounded batches; see hosted/cleanup.ts;
 * then push subscriptions past their time.
 */
export async function scheduled(_controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  const report = { ...(await cleanup(env)), pushSubscriptions: await expireSubscriptions(env.DB) };
  if (Object.values(report).some((n) => n > 0)) console.log('cleanup', JSON.stringify(report));
}
