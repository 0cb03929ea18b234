/**
 * A registration body: a few KiB at most, read with deadlines (a slow body
 * holds a connection, never much memory) and exactly as long as announced.
 */
import { fromUtf8 } from '../../protocol/index.ts';
import { timedChunks } from '../hosted/body.ts';

const IDLE_MS = 5_000;
const TOTAL_MS = 15_000;

/** The body as UTF-8 text when it is exactly `length` bytes; null otherwise (too long, too short, not UTF-8, too slow). */
export async function readSmallBody(body: ReadableStream<Uint8Array> | null, length: number): Promise<string | null> {
  const out = new Uint8Array(length);
  let at = 0;
  try {
    for await (const chunk of timedChunks(body, { idleMs: IDLE_MS, deadline: Date.now() + TOTAL_MS })) {
      if (at + chunk.length > length) return null;
      out.set(chunk, at);
      at += chunk.length;
    }
    return at === length ? fromUtf8(out) : null;
  } catch {
    return null;
  }
}
