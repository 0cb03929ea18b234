/**
 * Once per e2e run: build the web client into web/dist (the build prints
 * the bundle's gzip size) and start the Worker that serves it. Tests get
 * its URL with `inject('workerUrl')`.
 */
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { missingNeeds, plan } from '../../scripts/prereqs.mjs';
import { startWorker } from './worker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    workerUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // `npm test` has checked already; this is for running the e2e project directly.
  const missing = missingNeeds().filter((n) => n.command === 'chromium' || n.command === 'turnserver');
  const next = plan({ missing, root: false, sudo: false, apt: true });
  if (next.action === 'stop') throw new Error(next.message);
  const started = Date.now();
  // Vitest sets NODE_ENV=test, which would make this a development build
  // (no service worker, dev JSX): build exactly what `npm start` serves.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: 'vite.config.ts', mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  const worker = await startWorker();
  console.log(`[e2e] web client built and Worker at ${worker.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide('workerUrl', worker.url);
  return () => worker.stop();
}
