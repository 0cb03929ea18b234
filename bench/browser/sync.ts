/**
 * Profile A serves, profile B receives: 10,000 entries of one feed and a
 * 20 MB blob through the real engine over a WebRTC data channel (signalled
 * through the local Worker's room, as the app does), and the limits of the
 * same browser on the same bytes.
 */
import type { Page } from 'playwright-core';
import type { FeedInfo, LongTaskSummary } from './api.ts';
import { profiled, type CpuProfile } from './chromium.ts';

export const ENTRIES = 10_000;
export const BLOB_BYTES = 20 * 1024 * 1024;
/** The engine's frame budget for entry batches (src/peer/link.ts FRAME_BUDGET): the raw channel packs the same way. */
const RAW_FRAME_BYTES = 40 * 1024;
const RAW_CHUNK_BYTES = 64 * 1024;
/** The engine's per-entry store pattern is slow: measure it on a slice. */
const PER_ENTRY_SLICE = 2_000;
const STEP_MS = 60_000;

export interface Limits {
  verify: number;
  validate: number;
  idbOneTx: number;
  idbPerEntry: number;
  idbGetEach: number;
  /** Entry texts through the raw channel, entries/s and bytes/s. */
  rawEntries: number;
  rawEntryBytes: number;
  rawBinaryBytes: number;
  /** Blob bytes/s through the bare channel framed as the engine frames them. */
  rawBlobFrameBytes: number;
}

export interface EngineRun {
  entriesPerSecond: number;
  seconds: number;
  longB: LongTaskSummary;
  longA: LongTaskSummary;
  storeCalls: Record<string, number>;
  /** Store calls A's engine made while serving the sync. */
  storeCallsA: Record<string, number>;
  progressEvents: number;
  blob: { ok: true; bytesPerSecond: number } | { ok: false; error: string; seconds: number };
}

export async function makeAuthorFeed(a: Page): Promise<{ feed: FeedInfo; texts: string[] }> {
  const feed = await a.evaluate(
    (n) => window.bench.makeFeed(n, (i) => `replication benchmark entry ${i}: ${'lorem ipsum '.repeat(8)}`),
    ENTRIES,
  );
  await a.evaluate((id) => window.bench.seedStore('bench-a', [id], ['follow']), feed.identity);
  return { feed, texts: await a.evaluate((id) => window.bench.feedTexts(id), feed.identity) };
}

export async function connectRaw(a: Page, b: Page): Promise<void> {
  const offer = await a.evaluate(() => window.bench.rawOffer());
  const answer = await b.evaluate((o) => window.bench.rawAnswer(o), offer);
  await a.evaluate((s) => window.bench.rawAccept(s), answer);
}

/** Payload bytes per second: `payload` bytes sent by `send`, from its start to the end marker's arrival. */
async function rawRate(b: Page, payload: number, send: () => Promise<number>): Promise<number> {
  await b.evaluate(() => window.bench.rawArm());
  const start = await send();
  const { abs } = await b.evaluate(() => window.bench.rawArrived());
  return (payload * 1000) / (abs - start);
}

export async function measureLimits(a: Page, b: Page, texts: string[], run: number): Promise<Limits> {
  const textBytes = texts.reduce((n, t) => n + t.length, 0);
  const rawEntryBytes = await rawRate(b, textBytes, () =>
    a.evaluate(([t, f]) => window.bench.rawSendTexts(t, f), [texts, RAW_FRAME_BYTES] as const),
  );
  const rawBinaryBytes = await rawRate(b, BLOB_BYTES, () =>
    a.evaluate(([n, c]) => window.bench.rawSendBinary(n, c), [BLOB_BYTES, RAW_CHUNK_BYTES] as const),
  );
  const rawBlobFrameBytes = await rawRate(b, BLOB_BYTES, () => a.evaluate((n) => window.bench.rawSendBlobFrames(n), BLOB_BYTES));
  const slice = texts.slice(0, PER_ENTRY_SLICE);
  return {
    verify: await b.evaluate((t) => window.bench.verifyRate(t), texts),
    validate: await b.evaluate((t) => window.bench.validateRate(t), texts),
    idbOneTx: await b.evaluate(([t, db]) => window.bench.idbOneTransaction(t, db), [texts, `limit-one-${run}`] as const),
    idbPerEntry: await b.evaluate(([t, db]) => window.bench.idbPerEntry(t, db), [slice, `limit-per-${run}`] as const),
    idbGetEach: await b.evaluate(([t, db]) => window.bench.idbGetEach(t, db), [slice, `limit-per-${run}`] as const),
    rawEntries: (rawEntryBytes / textBytes) * texts.length,
    rawEntryBytes,
    rawBinaryBytes,
    rawBlobFrameBytes,
  };
}

/** A fresh receiving engine in B, linked to A's over WebRTC through the room. */
export async function linkFresh(a: Page, aIdentity: string, b: Page, room: string, run: number): Promise<string> {
  const bIdentity = await b.evaluate(([db, r, pub]) => window.bench.openPeer(db, r, { pubs: [pub] }), [
    `bench-b-${run}`,
    room,
    aIdentity,
  ] as const);
  const [ta, tb] = await Promise.all([
    a.evaluate(([id, ms]) => window.bench.waitLink(id, ms), [bIdentity, STEP_MS] as const),
    b.evaluate(([id, ms]) => window.bench.waitLink(id, ms), [aIdentity, STEP_MS] as const),
  ]);
  if (ta !== 'webrtc' || tb !== 'webrtc') throw new Error(`the engines linked over ${ta}/${tb}, not a WebRTC data channel`);
  return bIdentity;
}

/** Long tasks A saw in the window B measured (the pages' clocks differ by their time origins). */
async function longTasksOnA(a: Page, b: Page, start: number, end: number): Promise<LongTaskSummary> {
  const [oa, ob] = await Promise.all([a.evaluate(() => performance.timeOrigin), b.evaluate(() => performance.timeOrigin)]);
  return a.evaluate(([s, e]) => window.bench.longTasks(s, e), [start + ob - oa, end + ob - oa] as const);
}

export async function engineRun(a: Page, b: Page, feed: FeedInfo, blob: { hash: string; size: number }): Promise<EngineRun> {
  await a.evaluate(() => window.bench.resetCalls());
  const sync = await b.evaluate(([author, head, ms]) => window.bench.later(() => window.bench.syncFrom(author, head, ms)), [
    feed.identity,
    feed.head,
    STEP_MS * 2,
  ] as const);
  const longB = await b.evaluate(([s, e]) => window.bench.longTasks(s, e), [sync.start, sync.end] as const);
  const longA = await longTasksOnA(a, b, sync.start, sync.end);
  const storeCallsA = await a.evaluate(() => window.bench.storeCalls());
  const got = await b.evaluate(([h, n]) => window.bench.later(() => window.bench.fetchBlob(h, n)), [blob.hash, blob.size] as const);
  const seconds = (got.end - got.start) / 1000;
  return {
    seconds: (sync.end - sync.start) / 1000,
    entriesPerSecond: (feed.count * 1000) / (sync.end - sync.start),
    longB,
    longA,
    storeCalls: sync.storeCalls,
    storeCallsA,
    progressEvents: sync.progressEvents,
    blob: got.ok ? { ok: true, bytesPerSecond: blob.size / seconds } : { ok: false, error: got.error, seconds },
  };
}

/** One more run, unmeasured, with both main threads profiled: first the sync, then the blob. */
export async function profiledRun(
  a: Page,
  b: Page,
  feed: FeedInfo,
  blob: { hash: string; size: number },
): Promise<Record<'syncA' | 'syncB' | 'blobA' | 'blobB', CpuProfile>> {
  const sync = await profiled(b, () =>
    profiled(a, () =>
      b.evaluate(([author, head, ms]) => window.bench.later(() => window.bench.syncFrom(author, head, ms)), [
        feed.identity,
        feed.head,
        STEP_MS * 2,
      ] as const),
    ),
  );
  const blobRun = await profiled(b, () =>
    profiled(a, () => b.evaluate(([h, n]) => window.bench.later(() => window.bench.fetchBlob(h, n)), [blob.hash, blob.size] as const)),
  );
  return { syncB: sync.profile, syncA: sync.result.profile, blobB: blobRun.profile, blobA: blobRun.result.profile };
}
