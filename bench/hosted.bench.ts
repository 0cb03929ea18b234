/**
 * Blob upload and download through the local Worker (`wrangler dev --local`,
 * what `npm start` runs, via test/support/local-worker.ts), for 1 MiB and
 * 64 MiB blobs, against the raw local R2 rate in the same run: a minimal
 * Worker on Miniflare (the same workerd and R2 simulator) that only puts and
 * gets, driven from this Node process the same way. The ratio is Worker ÷ raw.
 *
 * An upload is a signed PUT (docs/protocol.md §15) that the Worker hashes
 * while streaming it into R2 (one put up to 8 MiB, multipart above); a
 * download is a plain GET read to the end. Every round uses fresh random
 * bytes, so no upload is answered by the idempotent "already have it" path.
 * The baseline stores with the same strategy but checks nothing (see
 * RAW_WORKER, and why not Miniflare's Node-side bucket API).
 *
 * Memory: the workerd process of each is found in this process's tree; its
 * VmRSS is sampled every 5 ms during each 64 MiB upload (peak) and compared
 * with the RSS just before it. The local R2 simulator runs inside that same
 * workerd process, so its buffers count too. Loopback only; every request
 * has a deadline, so the suite always ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { generateKeyPair, hashOf, signRequest, type KeyPair } from '../src/protocol/index.ts';
import { HOSTED_LIMITS } from '../src/server/hosted/limits.ts';
import { startLocalWorker } from '../test/support/local-worker.ts';
import { memoryOf, workerdPids } from '../test/support/proc.ts';
import { printTable, type Row } from './table.ts';

const MiB = 1024 * 1024;
const SIZES = [
  { label: '1 MiB', bytes: 1 * MiB, rounds: 10 },
  { label: '64 MiB', bytes: 64 * MiB, rounds: 3 },
];
const REQUEST_DEADLINE_MS = 120_000;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

// ---- one HTTP endpoint, measured the same way for the Worker and the baseline ----

interface Endpoint {
  /** PUTs the bytes; answers the elapsed milliseconds. */
  put(bytes: Uint8Array): Promise<number>;
  /** GETs them back, reading to the end; answers the elapsed milliseconds. */
  get(bytes: Uint8Array): Promise<number>;
}

async function timedPut(url: string, bytes: Uint8Array, headers: Record<string, string>, expect: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'PUT',
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { ...headers, 'Content-Type': 'application/octet-stream' },
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
  });
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== expect) throw new Error(`PUT answered ${res.status}: ${body.slice(0, 300)}`);
  return ms;
}

async function timedGet(url: string, size: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_DEADLINE_MS) });
  if (res.status !== 200 || !res.body) throw new Error(`GET answered ${res.status}`);
  let got = 0;
  const reader = res.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) got += r.value.byteLength;
  const ms = performance.now() - t0;
  if (got !== size) throw new Error(`GET gave ${got} bytes, not ${size}`);
  return ms;
}

/** The Worker's blob API: signed PUT (verified while streaming), public GET. */
function workerEndpoint(origin: string, keys: KeyPair): Endpoint {
  const url = (bytes: Uint8Array) => `${origin}/api/blobs/${encodeURIComponent(hashOf(bytes))}`;
  return {
    async put(bytes) {
      const headers = await signRequest(keys, {
        method: 'PUT',
        path: `/api/blobs/${hashOf(bytes)}`,
        time: Date.now(),
        length: bytes.length,
      });
      return timedPut(url(bytes), bytes, headers, 201);
    },
    get: (bytes) => timedGet(url(bytes), bytes.length),
  };
}

/**
 * The baseline: a minimal Worker on Miniflare (the same workerd and local R2
 * simulator, persisted to disk like wrangler dev's) that stores the request
 * body with the Worker's own strategy but no checks — one streaming put up
 * to 8 MiB, multipart in 8 MiB FixedLengthStream parts above (or always one
 * put with ?single) — and streams objects back with get().body.
 * Miniflare's getR2Bucket() from Node is not used for the rate: it copies
 * whole buffers through its Node bridge (about 7 MB/s here for 64 MiB, both
 * ways), which measures the bridge, not R2.
 */
const RAW_WORKER = `const PART = ${HOSTED_LIMITS.partBytes};
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = url.pathname.slice(1);
    if (request.method === "GET") {
      const object = await env.BLOBS.get(key);
      return object ? new Response(object.body) : new Response(null, { status: 404 });
    }
    const length = Number(request.headers.get("content-length"));
    if (length <= PART || url.searchParams.has("single")) {
      await env.BLOBS.put(key, request.body);
      return new Response(null, { status: 201 });
    }
    const upload = await env.BLOBS.createMultipartUpload(key);
    const reader = request.body.getReader();
    const parts = [];
    let total = 0, part = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let from = 0;
      while (from < value.byteLength) {
        if (!part) {
          const size = Math.min(PART, length - total);
          const stream = new FixedLengthStream(size);
          part = { writer: stream.writable.getWriter(), sent: upload.uploadPart(parts.length + 1, stream.readable), left: size };
        }
        const n = Math.min(value.byteLength - from, part.left);
        await part.writer.write(value.subarray(from, from + n));
        from += n; total += n; part.left -= n;
        if (part.left === 0) { await part.writer.close(); parts.push(await part.sent); part = null; }
      }
    }
    await upload.complete(parts);
    return new Response(null, { status: 201 });
  },
};`;

function rawEndpoint(origin: string, single = false): Endpoint {
  const url = (bytes: Uint8Array) => `${origin}/${hashOf(bytes).slice(1)}${single ? '?single' : ''}`;
  return { put: (bytes) => timedPut(url(bytes), bytes, {}, 201), get: (bytes) => timedGet(url(bytes), bytes.length) };
}

interface Measured {
  up: number;
  down: number;
  memory?: { pid: number; before: number; peak: number; hwm: number };
}

/**
 * Rounds of put-then-get per size. During each 64 MiB put the RSS of every
 * workerd in `pids` is sampled (wrangler dev runs two: a proxy and the one
 * running the Worker and R2); the process that grew most is reported.
 */
async function measure(endpoint: Endpoint, pids: readonly number[], sizes = SIZES): Promise<Map<string, Measured>> {
  const results = new Map<string, Measured>();
  await endpoint.put(randomBytes(1024)); // warm-up
  for (const size of sizes) {
    const ups: number[] = [];
    const downs: number[] = [];
    let memory: Measured['memory'];
    const sampled = pids.length > 0 && size.bytes >= 64 * MiB;
    for (let round = 0; round < size.rounds; round++) {
      const bytes = randomBytes(size.bytes);
      const before = new Map<number, number>();
      const peak = new Map<number, number>();
      const sample = () => {
        for (const pid of pids) {
          try {
            peak.set(pid, Math.max(peak.get(pid) ?? 0, memoryOf(pid).rss));
          } catch {
            // the process went away; the request fails and says so
          }
        }
      };
      let sampler: ReturnType<typeof setInterval> | undefined;
      if (sampled) {
        for (const pid of pids) before.set(pid, memoryOf(pid).rss);
        sampler = setInterval(sample, 5);
      }
      try {
        ups.push(await endpoint.put(bytes));
      } finally {
        if (sampler) clearInterval(sampler);
      }
      if (sampled) {
        sample();
        for (const pid of pids) {
          const m = { pid, before: before.get(pid) ?? 0, peak: peak.get(pid) ?? 0, hwm: memoryOf(pid).hwm };
          if (!memory || m.peak - m.before > memory.peak - memory.before) memory = m;
        }
      }
      downs.push(await endpoint.get(bytes));
    }
    results.set(size.label, { up: mbps(size.bytes, median(ups)), down: mbps(size.bytes, median(downs)), ...(memory ? { memory } : {}) });
  }
  return results;
}

async function throughWorker(): Promise<Map<string, Measured>> {
  const worker = await startLocalWorker();
  try {
    return await measure(workerEndpoint(worker.url, await generateKeyPair()), workerdPids());
  } finally {
    await worker.stop();
  }
}

async function rawR2(): Promise<{ same: Map<string, Measured>; single: Map<string, Measured> }> {
  const dir = mkdtempSync(join(tmpdir(), 'effigy-r2-bench-'));
  const known = new Set(workerdPids());
  const mf = new Miniflare({
    workers: [
      {
        config: {
          name: 'r2-baseline',
          compatibilityDate: '2026-10-01',
          manifest: { mainModule: 'index.js', modules: { 'index.js': { type: 'esm', contents: RAW_WORKER } } },
          env: { BLOBS: { type: 'r2', name: 'effigy-blobs' } },
        },
      },
    ],
    resourcePersistencePath: dir,
  } as ConstructorParameters<typeof Miniflare>[0]);
  try {
    const origin = (await mf.ready).origin;
    const pids = workerdPids().filter((p) => !known.has(p));
    const same = await measure(rawEndpoint(origin), pids);
    const single = await measure(
      rawEndpoint(origin, true),
      pids,
      SIZES.filter((s) => s.bytes > HOSTED_LIMITS.partBytes),
    );
    return { same, single };
  } finally {
    await mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmtMiB = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

export default async function run(): Promise<void> {
  const worker = await throughWorker();
  const { same: raw, single } = await rawR2();
  const rows: Row[] = [];
  for (const size of SIZES) {
    const w = worker.get(size.label)!;
    const r = raw.get(size.label)!;
    rows.push({
      blob: size.label,
      rounds: size.rounds,
      'upload MB/s (Worker PUT)': w.up,
      'raw R2 put MB/s': r.up,
      'upload ÷ raw': w.up / r.up,
      'download MB/s (Worker GET)': w.down,
      'raw R2 get MB/s': r.down,
      'download ÷ raw': w.down / r.down,
    });
  }
  printTable('blobs through the local Worker vs raw local R2, same put strategy without checks (median of rounds; MB = 10^6 bytes)', rows);
  const memRows: Row[] = [];
  for (const [what, m] of [
    ['Worker PUT (signed, hashed while streaming, multipart)', worker],
    ['raw R2, same strategy (multipart, no checks)', raw],
    ['raw R2, one streaming put', single],
  ] as const) {
    const big = m.get('64 MiB')?.memory;
    if (big) {
      memRows.push({
        '64 MiB upload': `${what}, workerd pid ${big.pid}`,
        'RSS before': fmtMiB(big.before),
        'peak RSS during': fmtMiB(big.peak),
        growth: fmtMiB(big.peak - big.before),
        'VmHWM after (since start)': fmtMiB(big.hwm),
      });
    }
  }
  if (memRows.length > 0)
    printTable(
      `workerd memory during a 64 MiB upload (round with the largest growth of ${SIZES[1]!.rounds}, RSS sampled every 5 ms; the workerd that grew most)`,
      memRows,
    );
  else console.log('\n(no workerd process found under this process: memory not measured)');
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
