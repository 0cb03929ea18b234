/**
 * The Worker that owns a page's checking (validator.ts): it runs openEntry
 * on each text it is sent and answers each with its hash or its error, in
 * order; and it hashes blobs from their chunks, answering the digest at the end.
 */
import { openEntry, sha256 } from '../protocol/index.ts';
import type { Verdict, WorkerAnswer, WorkerJob } from './validator.ts';

const hashing = new Map<number, ReturnType<typeof sha256.create>>();

self.onmessage = async (e: MessageEvent<WorkerJob>) => {
  const job = e.data;
  if (job.kind === 'hash') {
    if (job.drop) return void hashing.delete(job.id);
    let h = hashing.get(job.id);
    if (!h) hashing.set(job.id, (h = sha256.create()));
    if (job.chunk) h.update(job.chunk);
    if (!job.end) return;
    hashing.delete(job.id);
    return self.postMessage({ kind: 'hash', id: job.id, digest: h.digest() } satisfies WorkerAnswer);
  }
  const opened = await Promise.all(job.texts.map((t) => openEntry(t, job.identity === undefined ? {} : { identity: job.identity })));
  const verdicts = opened.map((r): Verdict => (r.ok ? { hash: r.value.hash } : { code: r.error.code, message: r.error.message }));
  self.postMessage({ kind: 'validate', id: job.id, verdicts } satisfies WorkerAnswer);
};
