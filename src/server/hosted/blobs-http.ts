/**
 * Blobs over HTTP (docs/hosted.md), mounted at /api/blobs:
 *
 *   PUT  /api/blobs/:hash   signed upload (docs/protocol.md §15), verified while it streams
 *   GET  /api/blobs/:hash   public download, with single-range support
 *   HEAD /api/blobs/:hash   the size (Content-Length), as the design shares it
 *
 * Reads are public: a blob's name is its hash, so the content verifies
 * itself. Errors are JSON `{error: {code, message}}`.
 */
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { decodeHash, parseDecimal, REQUEST_HEADERS, type Hash } from '../../protocol/index.ts';
import type { Env } from '../env.ts';
import { checkSignedRequest } from '../signed-request.ts';
import { blobKey, blobRows, putVerified } from './blobstore.ts';
import { HOSTED_LIMITS, maxBlobBytes } from './limits.ts';
import { expandDirectories } from './refs.ts';

type Ctx = Context<{ Bindings: Env }>;
type Status = 400 | 401 | 404 | 405 | 409 | 411 | 413 | 416 | 429 | 500;

const fail = (c: Ctx, status: Status, code: string, message: string): Response =>
  c.json({ error: { code, message: message.slice(0, 1000) } }, status);

export const BLOB_PATH = '/api/blobs/';

/** Headers every blob answer carries: the bytes are untrusted, so never let a browser treat them as a page. */
function contentHeaders(hash: string, size: number): Headers {
  return new Headers({
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(size),
    'Accept-Ranges': 'bytes',
    ETag: `"${hash}"`,
    'Cache-Control': 'public, max-age=31536000, immutable',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
  });
}

function parseHashParam(c: Ctx): Hash | Response {
  const hash = c.req.param('hash') ?? '';
  if (!decodeHash(hash).ok) {
    return fail(
      c,
      400,
      'bad_hash',
      `"${hash.slice(0, 60)}" is not a hash: "&" followed by 43 base64url characters (URL-encode the "&" as %26 if your client needs to)`,
    );
  }
  return hash as Hash;
}

export type ByteRange = { offset: number; length: number };

/**
 * One `bytes=` range against a blob of `size` bytes: the range, null when
 * there is no Range header, or "unsatisfiable" (416) for anything else —
 * malformed, several ranges, or outside the blob.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'unsatisfiable';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { offset: start, length: end - start + 1 };
}

export const blobsApi = new Hono<{ Bindings: Env }>();

blobsApi.use(
  '*',
  cors({
    origin: '*',
    allowMethods: ['GET', 'HEAD', 'PUT', 'OPTIONS'],
    allowHeaders: [REQUEST_HEADERS.identity, REQUEST_HEADERS.time, REQUEST_HEADERS.signature, 'Content-Type', 'Range', 'If-None-Match'],
    exposeHeaders: ['Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag'],
    maxAge: 86400,
  }),
);

blobsApi.on(['GET', 'HEAD'], '/:hash', async (c) => {
  const hash = parseHashParam(c);
  if (hash instanceof Response) return hash;
  const bucket = c.env.BLOBS;
  const head = await bucket.head(blobKey(hash));
  if (!head) return fail(c, 404, 'not_found', `no blob ${hash} here`);
  const headers = contentHeaders(hash, head.size);
  if (
    c.req
      .header('If-None-Match')
      ?.split(',')
      .some((t) => t.trim() === `"${hash}"` || t.trim() === '*')
  ) {
    headers.delete('Content-Length');
    return new Response(null, { status: 304, headers });
  }
  const range = parseRange(c.req.header('Range'), head.size);
  if (range === 'unsatisfiable') {
    const res = fail(
      c,
      416,
      'bad_range',
      `the Range "${(c.req.header('Range') ?? '').slice(0, 100)}" is not one satisfiable bytes= range of this ${head.size}-byte blob`,
    );
    res.headers.set('Content-Range', `bytes */${head.size}`);
    return res;
  }
  if (range) {
    headers.set('Content-Range', `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`);
    headers.set('Content-Length', String(range.length));
  }
  if (c.req.method === 'HEAD') return new Response(null, { status: range ? 206 : 200, headers });
  const object = await bucket.get(blobKey(hash), range ? { range } : undefined);
  if (!object) return fail(c, 404, 'not_found', `no blob ${hash} here`);
  return new Response(object.body, { status: range ? 206 : 200, headers });
});

blobsApi.put('/:hash', async (c) => {
  const hash = parseHashParam(c);
  if (hash instanceof Response) return hash;
  const env = c.env;
  const now = Date.now();

  // 1. Content-Length: required (the signature covers it) and canonical.
  const lengthText = c.req.header('Content-Length');
  if (lengthText === undefined) return fail(c, 411, 'length_required', 'an upload needs a Content-Length (no chunked bodies)');
  const length = parseDecimal(lengthText);
  if (length === null) return fail(c, 400, 'bad_length', 'Content-Length must be a plain decimal byte count');

  // 2. Signed by the identity, recently (docs/protocol.md §15): unsigned, bad_identity, bad_time, stale_request, bad_signature.
  const signed = await checkSignedRequest(c, { method: 'PUT', path: `${BLOB_PATH}${hash}`, length }, now);
  if (!signed.ok) return signed.response;
  const identity = signed.identity;

  // 3. Size, then idempotence, then quota.
  const max = maxBlobBytes(env.MAX_BLOB_BYTES);
  if (length > max) return fail(c, 413, 'too_big', `${length} bytes is over this server's blob limit of ${max} bytes`);
  const { existing, used } = await blobRows.lookup(env.DB, hash, identity);
  if (existing && (await env.BLOBS.head(blobKey(hash)))) {
    await c.req.raw.body?.cancel().catch(() => {});
    if (existing.size !== length) {
      return fail(c, 409, 'hash_mismatch', `${hash} is ${existing.size} bytes; a body of ${length} bytes cannot hash to it`);
    }
    await blobRows.record(env.DB, hash, existing.size, identity, now);
    return c.json({ hash, size: existing.size }, 200);
  }
  if (used + length > HOSTED_LIMITS.blobBytesPerIdentity) {
    return fail(
      c,
      429,
      'quota',
      `${identity} stores ${used} bytes of blobs here; ${length} more would pass the quota of ${HOSTED_LIMITS.blobBytesPerIdentity}`,
    );
  }

  // 4. Stream, verify, publish.
  const result = await putVerified(env.BLOBS, hash, length, c.req.raw.body);
  if (!result.ok) return fail(c, result.code === 'hash_mismatch' ? 409 : 400, result.code, result.message);
  try {
    await blobRows.record(env.DB, hash, result.size, identity, now);
  } catch (err) {
    // Unaccounted objects are not kept: without the row nothing would ever clean it up.
    await env.BLOBS.delete(blobKey(hash)).catch(() => {});
    throw err;
  }
  // A directory a lease was waiting for: keep what it lists too.
  if (result.size <= HOSTED_LIMITS.directoryBytes) {
    c.executionCtx.waitUntil(expandDirectories(env, [hash], now).catch((err) => console.error('expandDirectories', err)));
  }
  return c.json({ hash, size: result.size }, 201);
});

blobsApi.all('/:hash', (c) => fail(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here: GET, HEAD or PUT`));
