/**
 * What goes inside one relayed `message_to` (docs/protocol.md §13.6): the
 * frames waiting to be relayed, packed into as few payloads as the room's
 * 48 KiB bound allows. Where the platform compresses (CompressionStream:
 * browsers, Node), a long run of frames travels DEFLATE-compressed (`z`):
 * JSON compresses well, and the room counts messages, not bytes. Inflating
 * is bounded, so a payload cannot grow into more than the limit allows.
 */
import { fromBase64url, LIMITS, toBase64url, utf8Length } from '../protocol/index.ts';

/** `{"ch":"relay","ms":[` … `]}` around the packed frames. */
const WRAPPER_BYTES = 20;
/** Frames in one payload at most (§13.6). */
const MAX_FRAMES = 64;
/** Below this, frames travel as they are: compressing would save little. */
const COMPRESS_FROM = 4 * 1024;

/** Node's zlib where there is one (headless peers, tests): its web streams cost more than the compressing itself. */
interface Zlib {
  deflateRawSync(data: Uint8Array): Uint8Array;
  inflateRawSync(data: Uint8Array, options: { maxOutputLength: number }): Uint8Array;
}
const zlib = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:zlib') as
  Zlib | undefined;

const compresses = (): boolean => !!zlib || (typeof CompressionStream === 'function' && typeof DecompressionStream === 'function');

async function deflate(text: string): Promise<Uint8Array> {
  if (zlib) return zlib.deflateRawSync(new TextEncoder().encode(text));
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The text a compressed payload inflates to, or null when it is not DEFLATE or grows past the limit. */
async function inflate(bytes: Uint8Array, max: number): Promise<string | null> {
  if (zlib) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(zlib.inflateRawSync(bytes, { maxOutputLength: max }));
    } catch {
      return null;
    }
  }
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) {
        await reader.cancel();
        return null;
      }
      parts.push(value);
    }
    const whole = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      whole.set(p, at);
      at += p.length;
    }
    return new TextDecoder('utf-8', { fatal: true }).decode(whole);
  } catch {
    return null;
  }
}

export class Packer {
  /** Raw bytes to try compressing into one payload, learnt from the last compression. */
  #rawTarget = 2 * LIMITS.messageBytes;

  /**
   * The next payload for the head of `queue` and how many frames it takes:
   * compressed when that carries more, the frames as they are otherwise.
   */
  async next(queue: readonly string[]): Promise<{ payload: unknown; taken: number }> {
    const sizes = queue.slice(0, MAX_FRAMES).map((f) => utf8Length(f) + 1);
    const fitting = (budget: number) => {
      let [n, bytes] = [0, WRAPPER_BYTES];
      while (n < sizes.length && (n === 0 || bytes + (sizes[n] as number) <= budget)) bytes += sizes[n++] as number;
      return n;
    };
    const plain = fitting(LIMITS.messageBytes);
    let n = fitting(this.#rawTarget);
    if (compresses() && n > 0 && sizes.slice(0, n).reduce((a, b) => a + b, 0) >= COMPRESS_FROM) {
      for (;;) {
        const raw = `[${queue.slice(0, n).join(',')}]`;
        const z = toBase64url(await deflate(raw));
        if (z.length + WRAPPER_BYTES <= LIMITS.messageBytes) {
          // Aim the next try at a payload a little under the bound.
          this.#rawTarget = Math.min(
            8 * LIMITS.messageBytes,
            Math.max(LIMITS.messageBytes, Math.floor((raw.length * 0.9 * LIMITS.messageBytes) / z.length)),
          );
          return { payload: { ch: 'relay', z }, taken: n };
        }
        if (n <= plain) break;
        n = Math.max(plain, n >> 1);
      }
    }
    const frames = queue.slice(0, plain).map((f) => JSON.parse(f) as unknown);
    return { payload: frames.length === 1 ? { ch: 'relay', m: frames[0] } : { ch: 'relay', ms: frames }, taken: plain };
  }
}

/** The frames a compressed payload holds, in order, or null when it is not a valid one. */
export async function unpack(z: string): Promise<string[] | null> {
  const bytes = fromBase64url(z);
  if (!bytes.ok) return null;
  const text = await inflate(bytes.value, LIMITS.relayInflatedBytes);
  if (text === null) return null;
  try {
    const frames: unknown = JSON.parse(text);
    if (!Array.isArray(frames) || frames.length < 1 || frames.length > MAX_FRAMES) return null;
    if (!frames.every((f) => typeof f === 'object' && f !== null && !Array.isArray(f))) return null;
    return frames.map((f) => JSON.stringify(f));
  } catch {
    return null;
  }
}
