/**
 * Reading an upload's body with deadlines: a body that sends nothing for
 * `idleMs`, or is not complete by `deadline`, is cut off (the attacker's
 * slow body holds a connection and an upload slot, never memory: chunks
 * are passed on as they come, one at a time).
 */

/** The body stopped arriving, or came too slowly. */
export class BodyTimeout extends Error {}

export interface BodyTiming {
  /** Longest wait for the next chunk, in milliseconds. */
  idleMs: number;
  /** Unix milliseconds by which the last chunk must have arrived. */
  deadline: number;
}

/** The chunks of `body` as they arrive; throws BodyTimeout when it stalls or runs late. The body is cancelled if the reader stops early. */
export async function* timedChunks(body: ReadableStream<Uint8Array> | null, timing: BodyTiming): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const wait = Math.min(timing.idleMs, timing.deadline - Date.now());
      if (wait <= 0) throw new BodyTimeout('the body did not arrive in time');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BodyTimeout('the body stopped arriving')), wait);
      });
      let read: ReadableStreamReadResult<Uint8Array>;
      const next = reader.read();
      next.catch(() => {}); // a read left behind by a timeout fails when the body is cancelled
      try {
        read = await Promise.race([next, timeout]);
      } finally {
        clearTimeout(timer);
      }
      if (read.done) {
        finished = true;
        return;
      }
      yield read.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
}
