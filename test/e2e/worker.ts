/**
 * The Worker for end-to-end tests: the same local Worker the Node tests and
 * benches use (test/support/local-worker.ts: wrangler dev --local, D1
 * migrations applied, state in a temporary directory removed on stop).
 */
import { startLocalWorker, type LocalWorker } from '../support/local-worker.ts';

export type RunningWorker = LocalWorker;

export const startWorker = (timeoutMs = 60_000, vars: Record<string, string> = {}, env?: Record<string, string>): Promise<RunningWorker> =>
  startLocalWorker({ startTimeoutMs: timeoutMs, vars, ...(env && { env }) });
