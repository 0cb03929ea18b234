/**
 * Main-thread long tasks, observed from page load: `longtask` (tasks over
 * 50 ms) and `long-animation-frame` (frames delayed over 50 ms). Headless
 * Chromium reports work the page runs itself (timers, events, data-channel
 * and IndexedDB callbacks), not work run inside the driver's evaluate.
 */
import type { LongScript, LongTaskSummary } from '../api.ts';

interface Seen {
  type: 'longtask' | 'long-animation-frame';
  start: number;
  duration: number;
  /** For a long animation frame: what ran longest in it (its script attribution). */
  script?: LongScript;
}

/** The fields of a PerformanceScriptTiming this bench reads (not in TypeScript's DOM types yet). */
interface ScriptTiming {
  duration: number;
  invoker: string;
  sourceFunctionName: string;
  sourceCharPosition: number;
}

const seen: Seen[] = [];

function longestScript(e: PerformanceEntry): LongScript | undefined {
  const scripts = (e as PerformanceEntry & { scripts?: ScriptTiming[] }).scripts ?? [];
  const top = [...scripts].sort((a, b) => b.duration - a.duration)[0];
  return top && { invoker: top.invoker, fn: top.sourceFunctionName, at: top.sourceCharPosition, ms: top.duration };
}

for (const type of ['longtask', 'long-animation-frame'] as const) {
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const script = type === 'long-animation-frame' ? longestScript(e) : undefined;
        seen.push({ type, start: e.startTime, duration: e.duration, ...(script && { script }) });
      }
    }).observe({ type, buffered: true });
  } catch {
    // An unsupported type observes nothing; the positive control then fails loudly.
  }
}

export function longTasks(from: number, to: number): LongTaskSummary {
  const pick = (type: Seen['type']) => {
    const inside = seen.filter((s) => s.type === type && s.start + s.duration >= from && s.start <= to);
    const longest = inside.reduce<Seen | undefined>((m, s) => (m && m.duration >= s.duration ? m : s), undefined);
    return { count: inside.length, longestMs: longest?.duration ?? 0, ...(longest?.script && { script: longest.script }) };
  };
  return { longtask: pick('longtask'), loaf: pick('long-animation-frame') };
}

export function later<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => setTimeout(() => work().then(resolve, reject), 0));
}

/** Observers deliver after the task ends; poll for the entries with a deadline. */
async function settle(from: number, want: (s: LongTaskSummary) => boolean, timeoutMs = 3000): Promise<LongTaskSummary> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const s = longTasks(from, performance.now());
    if (want(s) || performance.now() > end) return s;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function control(): Promise<LongTaskSummary> {
  const from = performance.now();
  await later(async () => {
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // busy: the task the observers must report
    }
  });
  return settle(from, (s) => s.longtask.count > 0 && s.loaf.count > 0);
}
