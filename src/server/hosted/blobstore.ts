/**
 * Blobs in R2, named by their hash (the object key is the hash text).
 *
 * An upload is verified while it streams: every byte goes through SHA-256
 * (workerd's native DigestStream) on its way to R2, and the object becomes
 * visible under its name only once the digest and the length match. Bodies
 * up to one part (HOSTED_LIMITS.partBytes) are held in memory, checked, then
 * put at once (R2 re-checks the SHA-256 we pass); larger ones go through an
 * R2 multipart upload in parts of that size, completed only when they verify
 * and aborted otherwise. An incomplete multipart upload is invisible, so no
 * partial or mismatched object is ever readable under a hash. Each part
 * streams into R2 as it arrives, so memory stays flat whatever the size.
 *
 * D1's `blobs` table accounts for each object (size, owner, expiry); its row
 * is written after the object is complete.
 */
import { decodeHash, type Hash, type Identity } from '../../protocol/index.ts';
import { HOSTED_LIMITS } from './limits.ts';

export type UploadFailure =
  { code: 'hash_mismatch'; message: string } | { code: 'length_mismatch'; message: string } | { code: 'bad_body'; message: string };

export type UploadResult = { ok: true; size: number } | ({ ok: false } & UploadFailure);

export const blobKey = (hash: Hash): string => hash;

/** The hash text of a SHA-256 digest. */
function hashOfDigest(digest: ArrayBuffer): string {
  let binary = '';
  for (const b of new Uint8Array(digest)) binary += String.fromCharCode(b);
  return `&${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** workerd's native streaming SHA-256: exposed as crypto.DigestStream at run time (the types declare it global). */
function newDigestStream(): DigestStream {
  const Stream = (crypto as unknown as { DigestStream?: typeof DigestStream }).DigestStream ?? DigestStream;
  return new Stream('SHA-256');
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Streams `body` into R2 under `hash`, verifying as it goes. Resolves
 * `{ok: true}` only if the object is now complete and verified; on any
 * failure nothing is visible under the key (an existing object of the same
 * name, being the same bytes, is never touched).
 */
export async function putVerified(
  bucket: R2Bucket,
  hash: Hash,
  length: number,
  body: ReadableStream<Uint8Array> | null,
): Promise<UploadResult> {
  const expected = decodeHash(hash);
  if (!expected.ok) return { ok: false, code: 'hash_mismatch', message: `${hash} is not a hash` };
  if (length <= HOSTED_LIMITS.partBytes) return putSmall(bucket, hash, expected.value, length, body);
  return putMultipart(bucket, hash, length, body);
}

async function putSmall(
  bucket: R2Bucket,
  hash: Hash,
  digest: Uint8Array,
  length: number,
  body: ReadableStream<Uint8Array> | null,
): Promise<UploadResult> {
  const buffer = new Uint8Array(length);
  let at = 0;
  if (body) {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (at + value.byteLength > length) {
          await reader.cancel().catch(() => {});
          return { ok: false, code: 'length_mismatch', message: `the body is longer than Content-Length ${length}` };
        }
        buffer.set(value, at);
        at += value.byteLength;
      }
    } catch (err) {
      return { ok: false, code: 'bad_body', message: `the body could not be read: ${String(err).slice(0, 200)}` };
    }
  }
  if (at !== length) return { ok: false, code: 'length_mismatch', message: `the body is ${at} bytes, Content-Length said ${length}` };
  const got = hashOfDigest(await crypto.subtle.digest('SHA-256', buffer));
  if (got !== hash) return { ok: false, code: 'hash_mismatch', message: `the body hashes to ${got}, not ${hash}` };
  // R2 checks the digest again on its side before the put takes effect.
  await bucket.put(blobKey(hash), buffer, { sha256: hex(digest), httpMetadata: { contentType: 'application/octet-stream' } });
  return { ok: true, size: length };
}

/**
 * Multipart: each part is a FixedLengthStream handed to uploadPart while the
 * body's chunks are written into it, so nothing larger than a network chunk
 * is held here; the digest sees every byte on the way. complete() runs only
 * after the last byte, the length and the digest have all checked out.
 */
async function putMultipart(bucket: R2Bucket, hash: Hash, length: number, body: ReadableStream<Uint8Array> | null): Promise<UploadResult> {
  if (!body) return { ok: false, code: 'length_mismatch', message: `the body is empty, Content-Length said ${length}` };
  const partBytes = HOSTED_LIMITS.partBytes;
  const upload = await bucket.createMultipartUpload(blobKey(hash), { httpMetadata: { contentType: 'application/octet-stream' } });
  const digest = newDigestStream();
  const hashing = digest.getWriter();
  const parts: R2UploadedPart[] = [];
  const reader = body.getReader();
  let total = 0;
  let part: { writer: WritableStreamDefaultWriter<Uint8Array>; sent: Promise<R2UploadedPart>; left: number } | null = null;
  let failure: UploadFailure | null = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.byteLength > length) {
        failure = { code: 'length_mismatch', message: `the body is longer than Content-Length ${length}` };
        await reader.cancel().catch(() => {});
        break;
      }
      await hashing.write(value);
      let from = 0;
      while (from < value.byteLength) {
        if (!part) {
          const size = Math.min(partBytes, length - total);
          const stream = new FixedLengthStream(size);
          part = { writer: stream.writable.getWriter(), sent: upload.uploadPart(parts.length + 1, stream.readable), left: size };
          part.sent.catch(() => {}); // awaited below; a failure also surfaces through the writer
        }
        const n = Math.min(value.byteLength - from, part.left);
        await part.writer.write(value.subarray(from, from + n));
        from += n;
        total += n;
        part.left -= n;
        if (part.left === 0) {
          await part.writer.close();
          parts.push(await part.sent);
          part = null;
        }
      }
    }
    if (!failure && total !== length)
      failure = { code: 'length_mismatch', message: `the body is ${total} bytes, Content-Length said ${length}` };
    if (!failure) {
      await hashing.close();
      const got = hashOfDigest(await digest.digest);
      if (got !== hash) failure = { code: 'hash_mismatch', message: `the body hashes to ${got}, not ${hash}` };
    }
    if (!failure) {
      await upload.complete(parts);
      return { ok: true, size: total };
    }
  } catch (err) {
    failure = { code: 'bad_body', message: `the upload failed: ${String(err).slice(0, 200)}` };
  }
  if (part) await part.writer.abort('upload refused').catch(() => {});
  await upload.abort().catch(() => {});
  await hashing.abort().catch(() => {});
  return { ok: false, ...failure };
}

// ---- accounting (D1) ----

export interface BlobRow {
  hash: Hash;
  size: number;
  owner: Identity;
  created_at: number;
  expires_at: number;
}

export const blobRows = {
  get(db: D1Database, hash: string): Promise<BlobRow | null> {
    return db.prepare('SELECT hash, size, owner, created_at, expires_at FROM blobs WHERE hash = ?').bind(hash).first<BlobRow>();
  },

  /** The row of `hash` and the bytes counted against `owner`, in one round trip. */
  async lookup(db: D1Database, hash: string, owner: string): Promise<{ existing: BlobRow | null; used: number }> {
    const [row, used] = await db.batch<Record<string, unknown>>([
      db.prepare('SELECT hash, size, owner, created_at, expires_at FROM blobs WHERE hash = ?').bind(hash),
      db.prepare('SELECT COALESCE(SUM(size), 0) AS used FROM blobs WHERE owner = ?').bind(owner),
    ]);
    return { existing: (row?.results[0] as BlobRow | undefined) ?? null, used: Number(used?.results[0]?.used ?? 0) };
  },

  /** Records a complete object, or pushes an existing row's expiry out; the first uploader stays the owner. */
  record(db: D1Database, hash: Hash, size: number, owner: Identity, now: number): Promise<D1Result> {
    return db
      .prepare(
        `INSERT INTO blobs (hash, size, owner, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (hash) DO UPDATE SET expires_at = MAX(blobs.expires_at, excluded.expires_at)`,
      )
      .bind(hash, size, owner, now, now + HOSTED_LIMITS.blobGraceMs)
      .run();
  },
};
