/**
 * Full validation of entries pulled from peers (docs/protocol.md §6.3): in a
 * Worker that owns it where the platform has Workers (browsers), so hashing,
 * parsing, the schema and the signature checks never hold the page's main
 * thread; on this thread where it has none (Node), or if the Worker fails.
 * The Worker answers each text with its hash or its error; the entry is then
 * rebuilt here from the text it proved valid.
 */
import { openEntry, trustedEntry, type Entry, type ErrorCode, type Hash, type Identity, type Result } from '../protocol/index.ts';

export interface Validator {
  /** Entries worth having in validation at once: enough to keep every verifier busy, few enough that the first run lands early. */
  readonly inFlight: number;
  /** Each text validated as an entry (of `identity`, when given), results in order. */
  open(texts: readonly string[], identity?: Identity): Promise<Result<Entry>[]>;
}

/** What the Worker answers for one text. */
export type Verdict = { hash: Hash } | { code: ErrorCode; message: string };
export interface ValidationJob {
  id: number;
  texts: readonly string[];
  identity: Identity | undefined;
}
export interface ValidationAnswer {
  id: number;
  verdicts: Verdict[];
}

export const validateHere: Validator = {
  inFlight: 128,
  open: (texts, identity) => Promise.all(texts.map((t) => openEntry(t, identity === undefined ? {} : { identity }))),
};

class WorkerValidator implements Validator {
  readonly inFlight = 512;
  #worker: Worker;
  #next = 0;
  #waiting = new Map<number, { job: ValidationJob; done: (r: Result<Entry>[] | Promise<Result<Entry>[]>) => void }>();
  #failed = false;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<ValidationAnswer>) => {
      const waiting = this.#waiting.get(e.data.id);
      if (!waiting) return;
      this.#waiting.delete(e.data.id);
      const { texts } = waiting.job;
      waiting.done(
        e.data.verdicts.map((v, i): Result<Entry> =>
          'hash' in v ? { ok: true, value: trustedEntry(v.hash, texts[i] as string) } : { ok: false, error: v },
        ),
      );
    };
    // A Worker that cannot load or breaks hands its work back to this thread.
    worker.onerror = () => this.#fail();
    worker.onmessageerror = () => this.#fail();
  }

  open(texts: readonly string[], identity?: Identity): Promise<Result<Entry>[]> {
    if (this.#failed) return validateHere.open(texts, identity);
    const job: ValidationJob = { id: ++this.#next, texts, identity };
    return new Promise<Result<Entry>[]>((done) => {
      this.#waiting.set(job.id, { job, done });
      this.#worker.postMessage(job);
    });
  }

  #fail(): void {
    this.#failed = true;
    this.#worker.terminate();
    for (const { job, done } of this.#waiting.values()) done(validateHere.open(job.texts, job.identity));
    this.#waiting.clear();
  }
}

let shared: Validator | null = null;

/** The validator of this page or process: one Worker shared by every link. */
export function validator(): Validator {
  if (shared) return shared;
  if (typeof Worker !== 'function') return (shared = validateHere);
  try {
    shared = new WorkerValidator(
      new Worker(new URL('./validation-worker.ts', import.meta.url), { type: 'module', name: 'effigy-validation' }),
    );
  } catch {
    shared = validateHere;
  }
  return shared;
}
