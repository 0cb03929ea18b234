/**
 * Signed blob PUTs that declare a Content-Length, send one byte and stall:
 * how an attacker pins a server's memory (issue 14, attack 5). For the
 * Node test against wrangler dev and the bench. Each upload may come from
 * its own loopback address (127.0.1.x: `wrangler dev` passes the source
 * address on as CF-Connecting-IP) and its own identity.
 */
import { request, type ClientRequest } from 'node:http';
import { generateKeyPair, hashOf, signRequest, type KeyPair } from '../../src/protocol/index.ts';
import { rssOf } from './proc.ts';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Stalled {
  readonly req: ClientRequest;
  /** The status the server answered while the body was still open, if it did. */
  status: number | null;
}

/** One PUT to `origin` + `path` declaring `declared` bytes, sending one, from `localAddress`. */
export async function stalledUpload(origin: string, keys: KeyPair | null, declared: number, localAddress: string): Promise<Stalled> {
  const hash = hashOf(new TextEncoder().encode(`slow upload ${Math.random()}`));
  const headers = keys ? await signRequest(keys, { method: 'PUT', path: `/api/blobs/${hash}`, time: Date.now(), length: declared }) : {};
  const url = new URL(`/api/blobs/${encodeURIComponent(hash)}`, origin);
  const req = request(url, {
    method: 'PUT',
    localAddress,
    headers: { ...headers, 'Content-Length': String(declared), 'Content-Type': 'application/octet-stream' },
  });
  const out: Stalled = { req, status: null };
  req.on('response', (res) => {
    out.status = res.statusCode ?? 0;
    res.resume();
  });
  req.on('error', () => {});
  req.flushHeaders();
  req.write(Buffer.from([0x61]));
  return out;
}

/**
 * `n` stalled uploads: from n identities and n addresses (`spread`), or all
 * from one identity at 127.0.2.1. `keys: false` sends them unsigned (for a
 * baseline worker that checks nothing).
 */
export async function stalledUploads(
  origin: string,
  n: number,
  declared: number,
  opts: { spread: boolean; signed?: boolean },
): Promise<Stalled[]> {
  const one = await generateKeyPair();
  const out: Stalled[] = [];
  for (let i = 0; i < n; i++) {
    const keys = opts.signed === false ? null : opts.spread ? await generateKeyPair() : one;
    out.push(await stalledUpload(origin, keys, declared, opts.spread ? `127.0.1.${i + 1}` : '127.0.2.1'));
  }
  return out;
}

/** RSS once it stops moving (three samples 300 ms apart within 1 MiB), at most about 8 s. */
export async function settledRss(pids: readonly number[]): Promise<number> {
  let last = rssOf(pids);
  let still = 0;
  for (let i = 0; i < 27 && still < 3; i++) {
    await sleep(300);
    const now = rssOf(pids);
    still = Math.abs(now - last) < MiB ? still + 1 : 0;
    last = now;
  }
  return last;
}

export interface StalledRound {
  before: number;
  during: number;
  /** Uploads the server answered while their bodies were still open (refused at once). */
  answered: number;
}

/** RSS before and with `n` stalled uploads in flight; then they are dropped. */
export async function stalledRound(
  origin: string,
  pids: readonly number[],
  n: number,
  declared: number,
  opts: { spread: boolean; signed?: boolean },
): Promise<StalledRound> {
  const before = await settledRss(pids);
  const uploads = await stalledUploads(origin, n, declared, opts);
  await sleep(1000);
  const during = await settledRss(pids);
  const answered = uploads.filter((u) => u.status !== null).length;
  for (const u of uploads) u.req.destroy();
  await sleep(1500);
  return { before, during, answered };
}
