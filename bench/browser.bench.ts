/**
 * The browser suite (issue 15's "before" figures): two Chromium profiles on
 * loopback, each running the real engine (src/peer) on its own on-disk
 * IndexedDB, linked by a WebRTC data channel that the engines negotiate
 * through the local Worker's room, as the app does. In the same run, the
 * limits of the same browser on the same bytes: WebCrypto Ed25519 verify
 * (all in flight), a bare data channel, IndexedDB writes in one transaction.
 * Then the real web app opening on a store of 50 feeds × 1,000 entries.
 *
 * Every measurement runs RUNS times: the median, with the range beside it.
 * Tables print as each stage ends. The suite stops itself after SUITE_MS,
 * closing Chromium and the Worker. Alone: `npm run bench -- browser`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startLocalWorker } from '../test/support/local-worker.ts';
import { FEEDS, measureAppOpen, PER_FEED } from './browser/app-open.ts';
import { buildApp, buildPage, pageScript } from './browser/build.ts';
import { benchPage, profile } from './browser/chromium.ts';
import { moduleAtChar, moduleMap } from './browser/profile.ts';
import { printAppOpen, printControl, printEngine, printLimits, printProfiles } from './browser/report.ts';
import {
  BLOB_BYTES,
  connectRaw,
  engineRun,
  linkFresh,
  makeAuthorFeed,
  measureLimits,
  profiledRun,
  type EngineRun,
  type Limits,
} from './browser/sync.ts';

const RUNS = 3;
const SUITE_MS = 300_000;
const RESULTS = 'bench/results';

type Track = (close: () => Promise<void>) => void;

/** The observers must see a long task the page makes itself, or their zeros would mean nothing. */
async function control(page: Page, where: (at: number) => string): Promise<string> {
  const seen = await page.evaluate(() => window.bench.control());
  if (seen.longtask.count === 0) throw new Error('the longtask observer missed a 120 ms task: long-task figures would be meaningless');
  const script = seen.loaf.script ? `, its script ${seen.loaf.script.invoker} in ${where(seen.loaf.script.at)}` : ', no script attributed';
  const loaf = seen.loaf.count ? `${seen.loaf.longestMs.toFixed(0)} ms${script}` : 'not reported';
  return `longtask ${seen.longtask.longestMs.toFixed(0)} ms, long-animation-frame ${loaf}`;
}

async function suite(track: Track): Promise<void> {
  const t0 = performance.now();
  const step = (what: string) => console.log(`  [browser ${((performance.now() - t0) / 1000).toFixed(0)} s] ${what}`);
  await buildApp();
  const pageDir = await buildPage();
  track(async () => rmSync(pageDir, { recursive: true, force: true }));
  const script = pageScript(pageDir);
  step('built the app and the bench page');
  const worker = await startLocalWorker();
  track(() => worker.stop());
  step(`local Worker at ${worker.url}`);
  const open = async () => {
    const p = await profile(worker.url);
    track(() => p.close());
    await benchPage(p.page, script);
    return p;
  };
  const [A, B] = [await open(), await open()];
  const [a, b] = [A.page, B.page];
  const where = moduleAtChar(script);
  printControl({ a: await control(a, where), b: await control(b, where) });

  const { feed, texts } = await makeAuthorFeed(a);
  step(`A made and stored a feed of ${feed.count.toLocaleString('en-US')} entries`);
  await connectRaw(a, b);
  const limits: Limits[] = [];
  for (let i = 0; i < RUNS; i++) limits.push(await measureLimits(a, b, texts, i));
  const tightest = printLimits(limits, feed.bytes / feed.count);

  const room = `${worker.url.replace(/^http/, 'ws')}/room/bench-browser`;
  const aIdentity = await a.evaluate(([db, r]) => window.bench.openPeer(db, r, { pub: true }), ['bench-a', room] as const);
  const blob = await a.evaluate((n) => window.bench.addBlob(n), BLOB_BYTES);
  const engine: EngineRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    await linkFresh(a, aIdentity, b, room, i);
    engine.push(await engineRun(a, b, feed, blob));
    await b.evaluate(() => window.bench.closePeer());
    step(`engine run ${i + 1}: ${engine[i]!.seconds.toFixed(1)} s`);
  }
  printEngine(engine, limits, tightest, where);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}/browser.json`, JSON.stringify({ limits, engine }, null, 1));
  await linkFresh(a, aIdentity, b, room, RUNS);
  const profiles = await profiledRun(a, b, feed, blob);
  await b.evaluate(() => window.bench.closePeer());
  await a.evaluate(() => window.bench.closePeer());
  await Promise.all([A.close(), B.close()]);
  for (const [name, p] of Object.entries(profiles)) writeFileSync(`${RESULTS}/browser-${name}.cpuprofile`, JSON.stringify(p));
  printProfiles(profiles, moduleMap(pageDir));
  console.log(`\n  (CPU profiles, to open in DevTools: ${RESULTS}/browser-*.cpuprofile)`);

  step(`opening the app on ${FEEDS} × ${PER_FEED.toLocaleString('en-US')} entries`);
  printAppOpen(await measureAppOpen(await open(), script, RUNS));
  step('done');
}

export default async function browserBench(): Promise<void> {
  const closers: (() => Promise<void>)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser suite stopped at its ${SUITE_MS / 1000} s deadline`)), SUITE_MS);
  });
  try {
    await Promise.race([suite((c) => closers.push(c)), expired]);
  } finally {
    clearTimeout(timer);
    // Whatever happened: close every browser and stop the Worker; if closing hangs, leave anyway.
    const hard = setTimeout(() => process.exit(1), 30_000);
    hard.unref();
    for (const close of closers.reverse()) await close().catch(() => undefined);
    clearTimeout(hard);
  }
}
