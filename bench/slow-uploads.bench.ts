/**
 * Stalled uploads against the local Worker (`wrangler dev --local`, as `npm
 * start` runs it): 40 signed blob PUTs that each declare a Content-Length,
 * send one byte and then stall, as an attacker pinning memory would
 * (issue 14, attack 5). The workerd processes' RSS (summed; the local R2
 * simulator runs inside them too) is read before and once all 40 are in
 * flight and the RSS has settled (test/support/stalled-uploads.ts).
 *
 * Baseline, in the same run: the same 40 stalled uploads declaring 1 KiB,
 * which is what 40 held connections cost whatever the server does with the
 * declared size. The ratio is growth(8 MiB declared) ÷ growth(1 KiB declared).
 * Each upload comes from its own identity and its own loopback address, so
 * per-identity and per-address caps do not hide the memory question; a last
 * row sends the 40 from one address and one identity and counts what the
 * server refused at once.
 */
import { startLocalWorker } from '../test/support/local-worker.ts';
import { workerdPids } from '../test/support/proc.ts';
import { stalledRound } from '../test/support/stalled-uploads.ts';
import { printTable, type Row } from './table.ts';

const MiB = 1024 * 1024;
const UPLOADS = 40;
const fmt = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

export default async function run(): Promise<void> {
  const worker = await startLocalWorker();
  try {
    const pids = workerdPids();
    if (pids.length === 0) throw new Error('no workerd process found under this process: memory cannot be measured');
    await stalledRound(worker.url, pids, UPLOADS, 1024, { spread: true }); // warm-up: the route, D1 and R2 opened once
    const base = await stalledRound(worker.url, pids, UPLOADS, 1024, { spread: true });
    const big = await stalledRound(worker.url, pids, UPLOADS, 8 * MiB, { spread: true });
    const one = await stalledRound(worker.url, pids, UPLOADS, 8 * MiB, { spread: false });
    const row = (what: string, r: typeof base): Row => ({
      uploads: what,
      'RSS before': fmt(r.before),
      'RSS in flight': fmt(r.during),
      growth: fmt(r.during - r.before),
      'answered at once': r.answered,
    });
    printTable(`stalled uploads: workerd RSS (summed over ${pids.length} processes)`, [
      row(`${UPLOADS} × 1 KiB declared, 1 byte sent (baseline)`, base),
      row(`${UPLOADS} × 8 MiB declared, 1 byte sent, 40 addresses`, big),
      row(`${UPLOADS} × 8 MiB declared, one address, one identity`, one),
    ]);
    const ratio = (big.during - big.before) / Math.max(MiB, base.during - base.before);
    console.log(`\ngrowth ratio, 8 MiB declared ÷ 1 KiB declared (baseline): ${ratio.toFixed(2)}`);
  } finally {
    await worker.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
