/**
 * Main-thread long tasks, observed from page load: `longtask` (tasks over
 * 50 ms) and `long-animation-frame` (frames delayed over 50 ms). Headless
 * Chromium reports work the page runs itself (timers, events, data-channel
 * and IndexedDB callbacks), not work run inside the driver's evaluate.
 */
import type { LongTaskSummary } from '../api.ts';

interface Seen {
  type: 'longtask' | 'long-animation-frame';
  start: number;
  duration: number;
}

const seen: Seen[] = [];

for (const type of ['longtask', 'long-animation-frame'] as const) {
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) seen.push({ type, start: e.startTime, duration: e.duration });
    }).observe({ type, buffered: true });
  } catch {
    // An unsupported type observes nothing; the positive control then fails loudly.
  }
}

export function longTasks(from: number, to: number): LongTaskSummary {
  const pick = (type: Seen['type']) => {
    const inside = seen.filter((s) => s.type === type && s.start + s.duration >= from && s.start <= to);
    return { count: inside.length, longestMs: inside.reduce((m, s) => Math.max(m, s.duration), 0) };
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
