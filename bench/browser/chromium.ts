/**
 * Debian's Chromium through playwright-core, with the flags that make WebRTC
 * work on loopback here (see test/e2e/browser.ts and the project's recipes).
 * Each profile is its own browser on its own user-data-dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
];

export interface Profile {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * A profile at `origin`, on disk: a persistent context with its own
 * user-data-dir (an incognito context would keep IndexedDB in memory, which
 * is not what a person's browser does). Service workers are blocked so the
 * bench page never meets the app's; the app then loads from the local Worker
 * on loopback, at about the cost of a cache.
 */
export async function profile(origin: string): Promise<Profile> {
  const dir = mkdtempSync(join(tmpdir(), 'effigy-bench-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    args: ARGS,
    timeout: 30_000,
    baseURL: origin,
    permissions: ['camera', 'microphone'],
    serviceWorkers: 'block',
  });
  context.setDefaultTimeout(60_000);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => console.warn(`[page error] ${err.message}`));
  page.on('console', (m) => m.type() === 'error' && console.warn(`[page console] ${m.text()}`));
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Load the bench page: the bundle runs in a document the Worker itself
 * serves (its /health answer), so it shares the app's origin and IndexedDB,
 * and Chromium's local-network-access checks see a loopback page talking to
 * loopback (a page fulfilled by request routing counts as public, and its
 * WebSockets to 127.0.0.1 are blocked). The script itself is a static file
 * of the same Worker (/bench/assets/): same-origin, so long animation frames
 * attribute it and profiles find it by name, and its chunks load beside it.
 */
export async function benchPage(page: Page, script: string): Promise<void> {
  await page.goto('/health');
  await page.addScriptTag({ url: `/bench/assets/${basename(script)}`, type: 'module' });
  await page.waitForFunction(() => document.body.dataset.ready === 'yes');
}

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A sampling CPU profile of the page's main thread around `work`. */
export async function profiled<T>(page: Page, work: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
  await cdp.send('Profiler.start');
  try {
    const result = await work();
    const { profile } = await cdp.send('Profiler.stop');
    return { result, profile: profile as unknown as CpuProfile };
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}
