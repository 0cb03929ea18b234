/**
 * Small D1 helpers. Every value reaches SQL as a bound parameter; the only
 * text ever spliced into a statement is a run of "?" placeholders.
 */
import { D1_MAX_PARAMS } from './limits.ts';

/** "?, ?, ?" for n values. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** Splits a list so each piece, plus `reserved` other parameters, fits one statement. */
export function chunks<T>(items: readonly T[], reserved = 0): T[][] {
  const size = Math.max(1, D1_MAX_PARAMS - reserved);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs a DELETE (whose text selects at most `batch` rows) until it deletes fewer, at most `rounds` times. Answers the rows deleted. */
export async function deleteInRounds(db: D1Database, sql: string, params: unknown[], batch: number, rounds: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < rounds; i++) {
    const res = await db
      .prepare(sql)
      .bind(...params)
      .run();
    const changed = res.meta.changes ?? 0;
    total += changed;
    if (changed < batch) break;
  }
  return total;
}
