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
import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { decodeHash, parseDecimal, REQUEST_HEADERS, type Hash } from '../../protocol/index.ts';
import type { Env } from '../env.ts';
import { clientAddress } from '../client-ip.ts';
import { errorResponse } from '../http.ts';
import { signedRequest } from '../signed-request.ts';
import { blobRows, type BlobUse } from './blob-rows.ts';
import { blobKey, putVerified, type UploadFailure, type UploadResult } from './blobstore.ts';
import { HOSTED_LIMITS } from './limits.ts';
import { expandDirectories } from './refs.ts';
import { hostedSettings, type HostedSettings } from './settings.ts';
import { releaseSlot, takeSlot } from './upload-slots.ts';

/** The routes' context: the hash the path names, and for uploads the body's declared length. */
type BlobsEnv = { Bindings: Env; Variables: { hash: Hash; length: number } };

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

/** The `:hash` of the path, as c.get('hash'); 400 `bad_hash` when it is not one. */
const hashParam: MiddlewareHandler<BlobsEnv> = async (c, next) => {
  const hash = c.req.param('hash') ?? '';
  if (!decodeHash(hash).ok) {
    return errorResponse(
      400,
      'bad_hash',
      `"${hash.slice(0, 60)}" is not a hash: "&" followed by 43 base64url characters (URL-encode the "&" as %26 if your client needs to)`,
    );
  }
  c.set('hash', hash as Hash);
  await next();
};

/** Content-Length, as c.get('length'): required (the signature covers it) and canonical. */
const contentLength: MiddlewareHandler<BlobsEnv> = async (c, next) => {
  const text = c.req.header('Content-Length');
  if (text === undefined) return errorResponse(411, 'length_required', 'an upload needs a Content-Length (no chunked bodies)');
  const length = parseDecimal(text);
  if (length === null) return errorResponse(400, 'bad_length', 'Content-Length must be a plain decimal byte count');
  c.set('length', length);
  await next();
};

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

export const blobsApi = new Hono<BlobsEnv>();

blobsApi.use(
  '*',
  cors({
    origin: '*',
    allowMethods: ['GET', 'HEAD', 'PUT', 'OPTIONS'],
    allowHeaders: [REQUEST_HEADERS.identity, REQUEST_HEADERS.time, REQUEST_HEADERS.signature, 'Content-Type', 'Range', 'If-None-Match'],
    exposeHeaders: ['Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag', 'Retry-After'],
    maxAge: 86400,
  }),
);

blobsApi.on(['GET', 'HEAD'], '/:hash', hashParam, async (c) => {
  const hash = c.get('hash');
  const bucket = c.env.BLOBS;
  const head = await bucket.head(blobKey(hash));
  if (!head) return errorResponse(404, 'not_found', `no blob ${hash} here`);
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
    return errorResponse(
      416,
      'bad_range',
      `the Range "${(c.req.header('Range') ?? '').slice(0, 100)}" is not one satisfiable bytes= range of this ${head.size}-byte blob`,
      { 'Content-Range': `bytes */${head.size}` },
    );
  }
  if (range) {
    headers.set('Content-Range', `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`);
    headers.set('Content-Length', String(range.length));
  }
  if (c.req.method === 'HEAD') return new Response(null, { status: range ? 206 : 200, headers });
  const object = await bucket.get(blobKey(hash), range ? { range } : undefined);
  if (!object) return errorResponse(404, 'not_found', `no blob ${hash} here`);
  return new Response(object.body, { status: range ? 206 : 200, headers });
});

// Checks in the order of docs/hosted.md §2.1: the hash, Content-Length, the signature (docs/protocol.md §15).
blobsApi.put(
  '/:hash',
  hashParam,
  contentLength,
  signedRequest<BlobsEnv>((c) => ({ method: 'PUT', path: `${BLOB_PATH}${c.get('hash')}`, length: c.get('length') })),
  async (c) => {
    const hash = c.get('hash');
    const length = c.get('length');
    const identity = c.get('identity');
    const env = c.env;
    const settings = hostedSettings(env);
    const ip = clientAddress(c.req.raw.headers);
    const now = Date.now();
    // A body the route will not store is never read: the client learns at once, and nothing is held for it.
    const dropBody = () => c.req.raw.body?.cancel().catch(() => {});
    const refuse = async (res: Response) => {
      await dropBody();
      return res;
    };

    // Size, then idempotence, then the budgets, then a slot.
    if (length > settings.MAX_BLOB_BYTES) {
      return refuse(errorResponse(413, 'too_big', `${length} bytes is over this server's blob limit of ${settings.MAX_BLOB_BYTES} bytes`));
    }
    const use = await blobRows.lookup(env.DB, hash, identity, ip);
    if (use.existing && (await env.BLOBS.head(blobKey(hash)))) {
      if (use.existing.size !== length) {
        return refuse(
          errorResponse(409, 'hash_mismatch', `${hash} is ${use.existing.size} bytes; a body of ${length} bytes cannot hash to it`),
        );
      }
      await dropBody();
      await blobRows.record(env.DB, hash, use.existing.size, identity, ip, now);
      return c.json({ hash, size: use.existing.size }, 200);
    }
    const over = budgetRefusal(settings, use, length);
    if (over) return refuse(errorResponse(429, 'quota', over));
    const deadline = now + UPLOAD_GRACE_MS + Math.ceil((length / settings.UPLOAD_MIN_BYTES_PER_SECOND) * 1000);
    const slot = await takeSlot(env.DB, {
      identity,
      ip,
      deadline,
      perIdentity: settings.UPLOADS_PER_IDENTITY,
      perIp: settings.UPLOADS_PER_IP,
    });
    if (!slot) {
      return refuse(
        errorResponse(
          429,
          'rate_limited',
          `at most ${settings.UPLOADS_PER_IDENTITY} uploads at once per identity and ${settings.UPLOADS_PER_IP} per address: wait for one to finish`,
          { 'Retry-After': '5' },
        ),
      );
    }

    // Stream, verify, publish.
    let result: UploadResult;
    try {
      result = await putVerified(env.BLOBS, hash, length, c.req.raw.body, { idleMs: settings.UPLOAD_IDLE_SECONDS * 1000, deadline });
    } finally {
      await releaseSlot(env.DB, slot);
    }
    if (!result.ok) return errorResponse(UPLOAD_STATUS[result.code], result.code, result.message);
    try {
      await blobRows.record(env.DB, hash, result.size, identity, ip, now);
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
  },
);

/** Every upload gets a minute on top of what its length needs at the slowest rate allowed. */
const UPLOAD_GRACE_MS = 60_000;

const UPLOAD_STATUS: Record<UploadFailure['code'], 400 | 408 | 409> = {
  hash_mismatch: 409,
  length_mismatch: 400,
  body_timeout: 408,
  bad_body: 400,
};

/** Which budget `length` more bytes would pass, in words for the uploader (never another uploader's figures), or null. */
function budgetRefusal(settings: HostedSettings, use: BlobUse, length: number): string | null {
  if (use.identity + length > settings.BLOB_BYTES_PER_IDENTITY) {
    return `this identity stores ${use.identity} bytes of blobs here; ${length} more would pass its budget of ${settings.BLOB_BYTES_PER_IDENTITY}`;
  }
  if (use.ip + length > settings.BLOB_BYTES_PER_IP) return 'uploads from this network have used up its storage budget here';
  if (use.total + length > settings.BLOB_BYTES_TOTAL) return "this server's blob storage is full";
  return null;
}

blobsApi.all('/:hash', (c) => errorResponse(405, 'method_not_allowed', `${c.req.method} is not allowed here: GET, HEAD or PUT`));
