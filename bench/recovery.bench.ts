/**
 * Recovery through friends, timed on loopback against the real Worker
 * (wrangler dev: rooms and the D1 dropbox), with Node peers: an account split
 * 3 of 5 among friends who answer the moment a request arrives (the person
 * reads the codes out at once). Measured: from asking on a fresh device to
 * the account restored there (the seed rebuilt and checked, the synod feed
 * found, this device added). Baseline, in the same run and network: a fresh
 * device restoring the same account from its 24 words.
 */
import { performance } from 'node:perf_hooks';
import { startLocalWorker } from '../test/support/local-worker.ts';
import { circle, newWorld, peerIn, timedRecovery } from '../test/support/recovery-world.ts';
import { printTable, ratio, spread, withRange } from './table.ts';

const ROUNDS = 5;

export default async function run(): Promise<void> {
  const worker = await startLocalWorker();
  const w = newWorld(worker.url, 'bench-recovery');
  try {
    const c = await circle(w, 'Ada', ['Bo', 'Cy', 'Di', 'Ed', 'Flo'], 3);
    const words: number[] = [];
    const friends: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const fresh = await peerIn(w);
      const t0 = performance.now();
      await fresh.restoreSynod(c.words, 30_000, 'restored from words');
      words.push(performance.now() - t0);
      fresh.close();
      const { ms, device } = await timedRecovery(w, c, c.friends.slice(0, 3));
      friends.push(ms);
      device.close();
    }
    const base = spread(words);
    const through = spread(friends);
    printTable('Recovery on a fresh device, loopback (ms, median and range of 5)', [
      { path: 'restore from the 24 words (baseline)', ms: withRange(base), ratio: '1.00×' },
      { path: 'through friends: ask 3 of 5, they answer at once', ms: withRange(through), ratio: ratio(through.median, base.median) },
    ]);
  } finally {
    for (const p of w.peers) p.close();
    await worker.stop();
  }
}
