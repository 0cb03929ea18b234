/**
 * When a room connection dials again. partysocket's own schedule is
 * deterministic after its first delay, so clients dropped together (a
 * deploy restarts the room) would come back together, every time; here each
 * retry waits a random time up to an exponentially growing cap ("full
 * jitter"), which spreads a storm evenly over the whole window.
 */
export const BACKOFF = {
  /** The first retry waits up to this long (after a connection that was up at least `stableMs`). */
  baseMs: 2_000,
  /** The cap doubles per failed attempt, up to this. */
  maxMs: 30_000,
  /** A connection up this long counts as a success: the next drop starts the schedule again. */
  stableMs: 5_000,
} as const;

/** Milliseconds to wait before connection attempt `attempt` (0: the first dial, at once). */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  if (attempt <= 0) return 0;
  const cap = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}
