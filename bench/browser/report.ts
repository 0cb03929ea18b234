/**
 * The browser suite's tables, printed as each stage ends (a suite stopped by
 * its deadline still shows what it finished): each figure is the median of
 * its runs with the range beside it, and its ratio to the named limit.
 */
import { printTable, ratio, spread, withRange, type Row, type Spread } from '../table.ts';
import { FEEDS, PER_FEED, type AppOpen, type AppOpenResults } from './app-open.ts';
import type { CpuProfile } from './chromium.ts';
import { summarize } from './profile.ts';
import { BLOB_BYTES, ENTRIES, type EngineRun, type Limits } from './sync.ts';

const MB = 1024 * 1024;

export interface Tightest {
  name: string;
  rate: Spread;
}

/** Prints the limits; returns the tightest of the three physical ones, the engine's yardstick. */
export function printLimits(limits: Limits[], entryBytes: number): Tightest {
  const of = (pick: (l: Limits) => number) => spread(limits.map(pick));
  const physical: Tightest[] = [
    { name: 'WebCrypto verify', rate: of((l) => l.verify) },
    { name: 'raw data channel', rate: of((l) => l.rawEntries) },
    { name: 'IndexedDB, one transaction', rate: of((l) => l.idbOneTx) },
  ];
  const tightest = [...physical].sort((x, y) => x.rate.median - y.rate.median)[0] as Tightest;
  const row = (limit: string, rate: Spread): Row => ({
    limit,
    'entries/s': withRange(rate),
    'MB/s': ((rate.median * entryBytes) / MB).toFixed(1),
    'vs tightest': ratio(rate.median, tightest.rate.median),
  });
  printTable(`limits in this browser, on the same ${ENTRIES.toLocaleString('en-US')} entries (${entryBytes.toFixed(0)} bytes each)`, [
    row('WebCrypto Ed25519 verify, all in flight', physical[0]!.rate),
    row('raw data channel, the entries in ≤ 40 KB frames', physical[1]!.rate),
    row('IndexedDB, all rows in one transaction', physical[2]!.rate),
    row(
      '(diagnosis) openEntry, full validation, all in flight',
      of((l) => l.validate),
    ),
    row(
      '(diagnosis) IndexedDB as the engine writes: hasEntry + putEntry per entry, in turn',
      of((l) => l.idbPerEntry),
    ),
    row(
      '(diagnosis) IndexedDB as the engine walks chains: one getEntry per entry, in turn',
      of((l) => l.idbGetEach),
    ),
  ]);
  return tightest;
}

export function printEngine(runs: EngineRun[], limits: Limits[], tightest: Tightest, where: (at: number) => string): void {
  const rate = spread(runs.map((e) => e.entriesPerSecond));
  printTable(`${ENTRIES.toLocaleString('en-US')} entries A → B: the engine over WebRTC into IndexedDB (target < 2 s)`, [
    {
      path: 'engine (src/peer), room-signalled WebRTC link',
      'entries/s': withRange(rate),
      seconds: withRange(spread(runs.map((e) => e.seconds)), 2),
      [`vs tightest limit (${tightest.name})`]: ratio(rate.median, tightest.rate.median),
    },
  ]);

  const lt = (side: 'longA' | 'longB', kind: 'longtask' | 'loaf', what: 'count' | 'longestMs') =>
    withRange(spread(runs.map((e) => e[side][kind][what])));
  /** The script that ran longest in the longest frame of all runs: who called it, and where it lives. */
  const culprit = (side: 'longA' | 'longB') => {
    const top = [...runs].sort((x, y) => y[side].loaf.longestMs - x[side].loaf.longestMs)[0]?.[side].loaf.script;
    return top
      ? `${top.invoker} → ${top.fn || '(anonymous)'} in ${where(top.at)}, ${top.ms.toFixed(0)} ms`
      : 'none over 5 ms: many short callbacks';
  };
  printTable('main-thread long tasks during that sync (target: none over 50 ms)', [
    ...(['longB', 'longA'] as const).map((side) => ({
      page: side === 'longB' ? 'B (receiving)' : 'A (serving)',
      'longtask count': lt(side, 'longtask', 'count'),
      'longest longtask ms': lt(side, 'longtask', 'longestMs'),
      'long-animation-frame count': lt(side, 'loaf', 'count'),
      'longest LoAF ms': lt(side, 'loaf', 'longestMs'),
      "longest frame's longest script": culprit(side),
    })),
  ]);

  const raw = spread(limits.map((l) => l.rawBinaryBytes / MB));
  const framed = spread(limits.map((l) => l.rawBlobFrameBytes / MB));
  const ok = runs.flatMap((e) => (e.blob.ok ? [e.blob.bytesPerSecond / MB] : []));
  const failed = runs.flatMap((e) => (e.blob.ok ? [] : [`${e.blob.error} (after ${e.blob.seconds.toFixed(1)} s)`]));
  const blob = spread(ok);
  printTable(`a ${BLOB_BYTES / MB} MB blob A → B over the data channel (target ≥ 60% of raw)`, [
    {
      path: 'raw data channel, 64 KiB binary chunks (baseline)',
      'MB/s': withRange(raw, 1),
      'vs raw': '1.00×',
      runs: `${limits.length} ok`,
    },
    {
      path: "(diagnosis) raw channel with the engine's framing: 32 KiB base64url in JSON frames, 1 MiB / 256 KiB water marks",
      'MB/s': withRange(framed, 1),
      'vs raw': ratio(framed.median, raw.median),
      runs: `${limits.length} ok`,
    },
    {
      path: 'engine: getBlob',
      'MB/s': withRange(blob, 1),
      'vs raw': ratio(blob.median, raw.median),
      runs: `${ok.length} ok, ${failed.length} failed`,
    },
    ...failed.map((f, i) => ({ path: `  failure ${i + 1}`, 'MB/s': f, 'vs raw': '', runs: '' })),
  ]);

  const callsB = runs[0]?.storeCalls ?? {};
  const callsA = runs[0]?.storeCallsA ?? {};
  const total = (m: string) => (callsB[m] ?? 0) + (callsA[m] ?? 0);
  printTable(
    `store calls during one sync of ${ENTRIES.toLocaleString('en-US')} entries (first run; each call is its own IndexedDB transaction)`,
    [...new Set([...Object.keys(callsB), ...Object.keys(callsA)])]
      .sort((x, y) => total(y) - total(x))
      .map((method): Row => ({
        method,
        'B (receiving) calls': callsB[method] ?? 0,
        'B per entry': (callsB[method] ?? 0) / ENTRIES,
        'A (serving) calls': callsA[method] ?? 0,
        'A per entry': (callsA[method] ?? 0) / ENTRIES,
      })),
  );
}

export function printControl(control: { a: string; b: string }): void {
  printTable('positive control: a 120 ms task started by each page, as its observers saw it', [
    { page: 'A', seen: control.a },
    { page: 'B', seen: control.b },
  ]);
}

export function printAppOpen(r: AppOpenResults): void {
  const of = (list: AppOpen[], pick: (o: AppOpen) => number) => spread(list.map(pick));
  const empty = of(r.empty, (o) => o.ms);
  const row = (what: string, ms: Spread, tx: string, longest: string): Row => ({
    what,
    ms: withRange(ms),
    'vs baseline': ratio(ms.median, empty.median),
    'IndexedDB transactions': tx,
    'longest task ms': longest,
  });
  const read = spread(r.timelineRead);
  printTable(
    `opening the app on ${FEEDS} feeds × ${PER_FEED.toLocaleString('en-US')} entries (target < 500 ms to the first timeline paint)`,
    [
      row(
        'app, followed feeds empty: navigation → timeline title painted (baseline)',
        empty,
        withRange(of(r.empty, (o) => o.txToTitle)),
        withRange(of(r.empty, (o) => o.longestTaskMs)),
      ),
      row(
        `app, ${FEEDS} × ${PER_FEED.toLocaleString('en-US')}: navigation → first entry painted`,
        of(r.full, (o) => o.ms),
        withRange(of(r.full, (o) => o.txToEntry)),
        withRange(of(r.full, (o) => o.longestTaskMs)),
      ),
      row(
        '  of which the engine opening (navigation → title: Peer.open, Replica.open)',
        of(r.full, (o) => o.titleMs),
        withRange(of(r.full, (o) => o.txToTitle)),
        '',
      ),
      row(
        '  of which timeline(300) (title → first entry)',
        of(r.full, (o) => o.ms - o.titleMs),
        withRange(of(r.full, (o) => o.txToEntry - o.txToTitle)),
        '',
      ),
      row('IndexedDB: the newest 300 entries across the followed feeds (merge of per-feed index cursors), one transaction', read, '1', ''),
    ],
  );
}

export function printProfiles(
  profiles: Record<'syncA' | 'syncB' | 'blobA' | 'blobB', CpuProfile>,
  map: Parameters<typeof summarize>[1],
): void {
  for (const [key, title] of [
    ['syncB', 'B main thread during the sync'],
    ['syncA', 'A main thread during the sync'],
    ['blobB', 'B main thread during the blob'],
    ['blobA', 'A main thread during the blob'],
  ] as const) {
    const s = summarize(profiles[key], map, 10);
    printTable(`profile: ${title}, self time by module (${(s.totalMs / 1000).toFixed(2)} s sampled)`, s.modules);
    if (key === 'syncB' || key === 'blobA') printTable(`profile: ${title}, self time by function`, s.functions);
  }
}
