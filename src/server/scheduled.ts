import type { Env } from "./env.ts";

/**
 * Cron entry point. The dropbox TTL sweep (D1 rows + R2 blobs past
 * expires_at) lands here; until then it deliberately does nothing.
 */
export async function scheduled(
  _controller: ScheduledController,
  _env: Env,
  _ctx: ExecutionContext,
): Promise<void> {}
