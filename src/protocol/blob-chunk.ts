/**
 * Binary blob chunks (docs/protocol.md §13.1 rule 11): on a WebRTC data
 * channel, a `getblob` that asked for `binary` is answered with binary
 * messages rather than base64url `blob` frames, so the bytes travel as they
 * are. Layout: one byte L (1–64), L bytes of the request's `id` (ASCII),
 * `offset` and `total` as unsigned 64-bit big-endian integers, then the data.
 */
import { fail, ok, type Result } from './errors.ts';
import { LIMITS } from './limits.ts';

export interface BlobChunk {
  /** The `id` of the `getblob` this chunk answers. */
  readonly re: string;
  readonly offset: number;
  readonly total: number;
  readonly data: Uint8Array;
}

/** Bytes before the data in a chunk answering `re`. */
export const blobChunkHeaderBytes = (re: string): number => 1 + re.length + 16;

const ID = /^[\x21-\x7e]{1,64}$/;

export function encodeBlobChunk(chunk: BlobChunk): Uint8Array {
  if (!ID.test(chunk.re)) throw new RangeError('a binary chunk answers an id of 1–64 printable ASCII characters');
  if (chunk.data.length > LIMITS.blobBinaryBytes) throw new RangeError(`a binary chunk carries at most ${LIMITS.blobBinaryBytes} bytes`);
  const head = blobChunkHeaderBytes(chunk.re);
  const out = new Uint8Array(head + chunk.data.length);
  out[0] = chunk.re.length;
  for (let i = 0; i < chunk.re.length; i++) out[1 + i] = chunk.re.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setBigUint64(1 + chunk.re.length, BigInt(chunk.offset));
  view.setBigUint64(9 + chunk.re.length, BigInt(chunk.total));
  out.set(chunk.data, head);
  return out;
}

/** Reads an untrusted binary message; `data` is a view into it. */
export function decodeBlobChunk(message: Uint8Array): Result<BlobChunk> {
  if (message.length > LIMITS.frameBytes) return fail('too_big', `a binary message is at most ${LIMITS.frameBytes} bytes`);
  const length = message[0] ?? 0;
  if (length < 1 || length > 64 || message.length < 1 + length + 16) return fail('bad_encoding', 'a binary chunk starts with its id');
  let re = '';
  for (let i = 0; i < length; i++) re += String.fromCharCode(message[1 + i] as number);
  if (!ID.test(re)) return fail('bad_encoding', 'a binary chunk id is printable ASCII');
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const offset = view.getBigUint64(1 + length);
  const total = view.getBigUint64(9 + length);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (offset > max || total > max) return fail('bad_schema', 'offset and total are safe integers');
  const data = message.subarray(1 + length + 16);
  if (data.length > LIMITS.blobBinaryBytes) return fail('too_big', `a binary chunk carries at most ${LIMITS.blobBinaryBytes} bytes`);
  return ok({ re, offset: Number(offset), total: Number(total), data });
}
