/**
 * Issue 14, attack 5, against the real Worker (`wrangler dev`, as `npm
 * start` runs it): 40 signed uploads that declare 8 MiB and send one byte
 * each, from 40 identities and 40 addresses, must not pin memory. Before
 * the fix each one allocated its declared size up front (+327 MiB here).
 *
 * Positive control, in the same run: a minimal Worker on the same workerd
 * (Miniflare) that allocates the declared size before reading, as the old
 * upload path did. The same 40 stalled uploads make its RSS grow by most
 * of 40 × 8 MiB, so the measurement does see such memory when it is there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalWorker, type LocalWorker } from '../support/local-worker.ts';
import { workerdPids } from '../support/proc.ts';
import { stalledRound } from '../support/stalled-uploads.ts';

const MiB = 1024 * 1024;
const UPLOADS = 40;

const ALLOCATING_WORKER = `export default {
  async fetch(request) {
    const buffer = new Uint8Array(Number(request.headers.get("content-length")));
    let at = 0;
    const reader = request.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) { buffer.set(r.value, at); at += r.value.byteLength; }
    return new Response(String(at));
  },
};`;

let worker: LocalWorker;

beforeAll(async () => {
  worker = await startLocalWorker();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

describe('stalled uploads pin no memory', { timeout: 120_000 }, () => {
  it('40 uploads declaring 8 MiB and sending 1 byte grow workerd by far less than 40 × 8 MiB', async () => {
    const pids = workerdPids();
    expect(pids.length, 'the workerd processes of wrangler dev').toBeGreaterThan(0);
    await stalledRound(worker.url, pids, UPLOADS, 1024, { spread: true }); // warm-up
    const round = await stalledRound(worker.url, pids, UPLOADS, 8 * MiB, { spread: true });
    expect(round.answered, 'none refused: they came from 40 identities and 40 addresses').toBe(0);
    expect(round.during - round.before).toBeLessThan(48 * MiB);
  });

  it('positive control: a Worker that allocates the declared size grows by most of 40 × 8 MiB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'effigy-alloc-'));
    const known = new Set(workerdPids());
    const mf = new Miniflare({
      workers: [
        {
          config: {
            name: 'allocating',
            compatibilityDate: '2026-10-01',
            manifest: { mainModule: 'index.js', modules: { 'index.js': { type: 'esm', contents: ALLOCATING_WORKER } } },
          },
        },
      ],
      resourcePersistencePath: dir,
    } as ConstructorParameters<typeof Miniflare>[0]);
    try {
      const origin = (await mf.ready).origin;
      const pids = workerdPids().filter((p) => !known.has(p));
      expect(pids.length).toBeGreaterThan(0);
      await stalledRound(origin, pids, 4, 1024, { spread: true, signed: false });
      const round = await stalledRound(origin, pids, UPLOADS, 8 * MiB, { spread: true, signed: false });
      expect(round.during - round.before).toBeGreaterThan(200 * MiB);
    } finally {
      await mf.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
