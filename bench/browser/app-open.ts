/**
 * Opening the real web app (web/, built by vite, served by the local Worker)
 * on a store of 50 feeds × 1,000 entries: the time from navigation to the
 * first painted timeline entry. Baselines in the same profile: the same app
 * on the same account with no followed feeds (what booting costs without
 * data), and one IndexedDB read transaction of what the timeline shows.
 */
import type { Page } from 'playwright-core';
import { benchPage, type Profile } from './chromium.ts';

export const FEEDS = 50;
export const PER_FEED = 1_000;
/** The timeline asks for this many entries (web/src/ui/posts.tsx). */
const TIMELINE_LIMIT = 300;
const APP_DB = 'effigy';

export interface AppOpen {
  ms: number;
  /** Navigation → the timeline's title (the engine open). */
  titleMs: number;
  entries: number;
  longestTaskMs: number;
  /** IndexedDB transactions up to the title, and up to the first entry. */
  txToTitle: number;
  txToEntry: number;
}

declare global {
  interface Window {
    __paint?: { title?: number; entry?: number; entries?: number; longest: number; tx: number; titleTx?: number; entryTx?: number };
  }
}

/**
 * Marks, from navigation start, the first frame that shows the timeline
 * title (the engine has opened: the app renders after boot) and the first
 * entry (timeline() has answered), the IndexedDB transactions opened by
 * each, and the longest task before the entry. Kept as
 * text: a function compiled by tsx carries helpers the page does not have.
 */
const MARKS = `(() => {
  const marks = { longest: 0, tx: 0 };
  window.__paint = marks;
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    marks.tx++;
    return transaction.apply(this, args);
  };
  try {
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) if (marks.entry === undefined) marks.longest = Math.max(marks.longest, e.duration);
    }).observe({ type: 'longtask', buffered: true });
  } catch {}
  new MutationObserver(() => {
    if (marks.title === undefined && document.querySelector('h2.screen-title')?.textContent?.includes('Timeline'))
      requestAnimationFrame(() => {
        marks.title ??= performance.now();
        marks.titleTx ??= marks.tx;
      });
    if (marks.entry === undefined && document.querySelector('article.entry'))
      requestAnimationFrame(() => {
        marks.entryTx ??= marks.tx;
        marks.entry ??= performance.now();
        marks.entries ??= document.querySelectorAll('article.entry').length;
      });
  }).observe(document, { childList: true, subtree: true });
})();`;

async function open(page: Page, mark: 'title' | 'entry', first: boolean): Promise<AppOpen> {
  if (first) await page.goto('/');
  else await page.reload();
  const handle = await page.waitForFunction((m) => window.__paint?.[m], mark, { timeout: 120_000 });
  await handle.dispose();
  const marks = (await page.evaluate(() => window.__paint))!;
  return {
    ms: marks[mark] as number,
    titleMs: marks.title ?? NaN,
    entries: marks.entries ?? 0,
    longestTaskMs: marks.longest,
    txToTitle: marks.titleTx ?? NaN,
    txToEntry: marks.entryTx ?? NaN,
  };
}

export interface AppOpenResults {
  empty: AppOpen[];
  full: AppOpen[];
  timelineRead: number[];
  watched: number;
}

export async function measureAppOpen(c: Profile, script: string, runs: number): Promise<AppOpenResults> {
  const { page, context } = c;
  await context.addInitScript({ content: MARKS });
  await benchPage(page, script);
  await page.evaluate((db) => window.bench.seedAccount(db), APP_DB);
  // One unmeasured open (first visit: caches, compiled code), then the measured ones.
  const empty: AppOpen[] = [];
  await open(page, 'title', true);
  for (let i = 0; i < runs; i++) empty.push(await open(page, 'title', false));

  await benchPage(page, script);
  const made = await page.evaluate(([f, n]) => window.bench.makeFeeds(f, n), [FEEDS, PER_FEED] as const);
  await page.evaluate(([db, ids]) => window.bench.seedStore(db, ids, ['follow']), [APP_DB, made.map((m) => m.identity)] as const);
  const timelineRead: number[] = [];
  for (let i = 0; i < runs; i++)
    timelineRead.push((await page.evaluate(([db, n]) => window.bench.idbTimelineRead(db, n), [APP_DB, TIMELINE_LIMIT] as const)).ms);

  // Every open on the big store counts (the empty opens above warmed the code caches): each takes long.
  const full: AppOpen[] = [await open(page, 'entry', true)];
  const watched = await page.evaluate(() => (window as { effigy?: { watching(): unknown[] } }).effigy?.watching().length ?? 0);
  if (watched < FEEDS)
    throw new Error(`the app opened watching ${watched} identities, not the ${FEEDS} seeded: seeding missed the app's store`);
  for (let i = 1; i < runs; i++) full.push(await open(page, 'entry', false));
  return { empty, full, timelineRead, watched };
}
