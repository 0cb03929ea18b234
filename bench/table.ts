/** Benchmark output: one markdown table per suite, so results paste into notes as they are. */
export type Row = Record<string, string | number>;

const cell = (v: string | number): string =>
  typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 })) : v;

export function printTable(title: string, rows: Row[]): void {
  if (rows.length === 0) return;
  const headers = Object.keys(rows[0] as Row);
  console.log(`\n### ${title}\n`);
  console.log(`| ${headers.join(' | ')} |`);
  console.log(`| ${headers.map((h, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows) console.log(`| ${headers.map((h) => cell(row[h] ?? '')).join(' | ')} |`);
}

/** Median of several timed rounds: one noisy round on a shared 2-core box must not decide. */
export async function medianRate(rounds: number, count: number, run: () => Promise<void>): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await run();
    rates.push((count * 1000) / (performance.now() - t0));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)] as number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Several runs of one measurement: the median decides, the range shows the noise. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, runs: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, runs: sorted.length };
}

/** "1,234 (1,100–1,300)": the median with the range of the runs beside it. */
export function withRange(s: Spread, digits = 0): string {
  const f = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  if (s.runs === 0) return 'n/a';
  return s.min === s.max ? `${f(s.median)} (×${s.runs})` : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** A ratio to a named baseline, as "0.42×". */
export const ratio = (value: number, baseline: number): string =>
  Number.isFinite(value / baseline) ? `${(value / baseline).toFixed(2)}×` : 'n/a';
