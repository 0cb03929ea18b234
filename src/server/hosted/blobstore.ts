/**
 * Blobs in R2, named by their hash (the object key is the hash text).
 *
 * An upload streams: each chunk of the body goes through SHA-256
 * (workerd's native DigestStream) and on into R2 as it arrives, so memory
 * holds a network chunk or two whatever the declared size; nothing is
 * allocated for the declared length. The object becomes visible under its
 * name only once the length and the digest match:
 *
 * - up to one part (HOSTED_LIMITS.partBytes), one streaming put through a
 *   FixedLengthStream, closed only after the digest checked out (R2 checks
 *   the SHA-256 we pass as well, and an unclosed or aborted put stores
 *   nothing);
 * - larger, an R2 multipart upload in parts of that size, completed only
 *   when the whole verifies, aborted otherwise (an unfinished multipart
 *   upload is invisible).
 *
 * So no partial or mismatched object is ever readable under a hash. The body
 * is read with deadlines (body.ts). D1's `blobs` table accounts for each
 * object (blob-rows.ts); its row is written after the object is complete.
 */
import { decodeHash, type Hash } from '../../protocol/index.ts';
import { BodyTimeout, timedChunks, type BodyTiming } from './body.ts';
import { HOSTED_LIMITS } from './limits.ts';

export type UploadFailure =
  | { code: 'hash_mismatch'; message: string }
  | { code: 'length_mismatch'; message: string }
  | { code: 'body_timeout'; message: string }
  | { code: 'bad_body'; message: string };

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

const METADATA = { httpMetadata: { contentType: 'application/octet-stream' } };

/** Where verified bytes go: written chunk by chunk, then finished (made visible) or aborted. */
interface Sink {
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

/** Writes `chunk` to a stream R2 is reading, failing at once if R2 gave up on it (a write would wait forever). */
async function feed(writer: WritableStreamDefaultWriter<Uint8Array>, chunk: Uint8Array, consumer: Promise<unknown>): Promise<void> {
  await Promise.race([
    writer.write(chunk),
    consumer.then(() => {
      throw new Error('R2 finished reading before the part was written');
    }),
  ]);
}

/** One put, fed through a FixedLengthStream; R2 re-checks the SHA-256. */
function singlePut(bucket: R2Bucket, hash: Hash, digest: Uint8Array, length: number): Sink {
  const stream = new FixedLengthStream(length);
  const writer = stream.writable.getWriter();
  const put = bucket.put(blobKey(hash), stream.readable, { sha256: hex(digest), ...METADATA });
  put.catch(() => {}); // observed by feed, finish and abort
  return {
    write: (chunk) => feed(writer, chunk, put),
    async finish() {
      await writer.close();
      await put;
    },
    async abort() {
      await writer.abort('upload refused').catch(() => {});
      await put.catch(() => {});
    },
  };
}

/** An R2 multipart upload: each part a FixedLengthStream handed to uploadPart while chunks are written into it. */
async function multipart(bucket: R2Bucket, hash: Hash, length: number): Promise<Sink> {
  const upload = await bucket.createMultipartUpload(blobKey(hash), METADATA);
  const parts: R2UploadedPart[] = [];
  let part: { writer: WritableStreamDefaultWriter<Uint8Array>; sent: Promise<R2UploadedPart>; left: number } | null = null;
  let total = 0;
  return {
    async write(chunk) {
      for (let from = 0; from < chunk.byteLength;) {
        if (!part) {
          const size = Math.min(HOSTED_LIMITS.partBytes, length - total);
          const stream = new FixedLengthStream(size);
          part = { writer: stream.writable.getWriter(), sent: upload.uploadPart(parts.length + 1, stream.readable), left: size };
          part.sent.catch(() => {}); // observed by feed and below
        }
        const n = Math.min(chunk.byteLength - from, part.left);
        await feed(part.writer, chunk.subarray(from, from + n), part.sent);
        from += n;
        total += n;
        part.left -= n;
        if (part.left === 0) {
          await part.writer.close();
          parts.push(await part.sent);
          part = null;
        }
      }
    },
    async finish() {
      await upload.complete(parts);
    },
    async abort() {
      if (part) await part.writer.abort('upload refused').catch(() => {});
      await upload.abort().catch(() => {});
    },
  };
}

/** A body that is not the blob its request names. */
class Refused extends Error {
  constructor(readonly failure: UploadFailure) {
    super(failure.message);
  }
}

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
  timing: BodyTiming,
): Promise<UploadResult> {
  const expected = decodeHash(hash);
  if (!expected.ok) return { ok: false, code: 'hash_mismatch', message: `${hash} is not a hash` };
  let sink: Sink | null = null;
  const digest = newDigestStream();
  digest.digest.catch(() => {}); // rejects when the upload is refused (aborted); read only on success
  const hashing = digest.getWriter();
  try {
    sink = length <= HOSTED_LIMITS.partBytes ? singlePut(bucket, hash, expected.value, length) : await multipart(bucket, hash, length);
    let total = 0;
    for await (const chunk of timedChunks(body, timing)) {
      if (total + chunk.byteLength > length) {
        throw new Refused({ code: 'length_mismatch', message: `the body is longer than Content-Length ${length}` });
      }
      await hashing.write(chunk);
      await sink.write(chunk);
      total += chunk.byteLength;
    }
    if (total !== length)
      throw new Refused({ code: 'length_mismatch', message: `the body is ${total} bytes, Content-Length said ${length}` });
    await hashing.close();
    const got = hashOfDigest(await digest.digest);
    if (got !== hash) throw new Refused({ code: 'hash_mismatch', message: `the body hashes to ${got}, not ${hash}` });
    await sink.finish();
    return { ok: true, size: total };
  } catch (err) {
    await sink?.abort();
    await hashing.abort().catch(() => {});
    if (err instanceof Refused) return { ok: false, ...err.failure };
    if (err instanceof BodyTimeout) {
      return { ok: false, code: 'body_timeout', message: `${err.message}: an upload must keep sending (docs/hosted.md §2.1)` };
    }
    // R2's and the stream's own words stay in the log: they are the server's business.
    console.error('blob upload failed', hash, err);
    return { ok: false, code: 'bad_body', message: 'the body could not be read or stored; send it again' };
  }
}
