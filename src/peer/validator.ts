/**
 * The checking that would hold a page's main thread, done in a Worker that
 * owns it where the platform has Workers (browsers): full validation of
 * entries pulled from peers (docs/protocol.md §6.3: hashing, parsing, the
 * schema and the signature), and hashing blobs chunk by chunk as they
 * arrive. On this thread where there are no Workers (Node), or if the Worker
 * fails. The Worker answers each text with its hash or its error; the entry
 * is then rebuilt here from the text it proved valid.
 */
import { openEntry, sha256, trustedEntry, type Entry, type ErrorCode, type Hash, type Identity, type Result } from '../protocol/index.ts';

/** SHA-256 of a blob fed in order; `digest` gets the whole too, to hash it here should the Worker fail. */
export interface BlobHasher {
  update(chunk: Uint8Array): void;
  digest(whole: Uint8Array): Promise<Uint8Array>;
  /** The fetch failed: forget the blob. */
  drop(): void;
}

export interface Validator {
  /** Entries worth having in validation at once: enough to keep every verifier busy, few enough that the first run lands early. */
  readonly inFlight: number;
  /** Each text validated as an entry (of `identity`, when given), results in order. */
  open(texts: readonly string[], identity?: Identity): Promise<Result<Entry>[]>;
  hasher(): BlobHasher;
}

/** What the Worker answers for one text. */
export type Verdict = { hash: Hash } | { code: ErrorCode; message: string };
/** To the Worker: texts to validate, or a blob's next chunk (`end`: answer its digest). */
export type WorkerJob =
  | { kind: 'validate'; id: number; texts: readonly string[]; identity: Identity | undefined }
  | { kind: 'hash'; id: number; chunk?: Uint8Array; end?: true; drop?: true };
export type WorkerAnswer = { kind: 'validate'; id: number; verdicts: Verdict[] } | { kind: 'hash'; id: number; digest: Uint8Array };

export const validateHere: Validator = {
  inFlight: 128,
  open: (texts, identity) => Promise.all(texts.map((t) => openEntry(t, identity === undefined ? {} : { identity }))),
  hasher() {
    const h = sha256.create();
    return { update: (chunk) => void h.update(chunk), digest: async () => h.digest(), drop: () => undefined };
  },
};

type Waiting =
  | {
      kind: 'validate';
      texts: readonly string[];
      identity: Identity | undefined;
      done: (r: Result<Entry>[] | Promise<Result<Entry>[]>) => void;
    }
  | { kind: 'hash'; whole: Uint8Array; done: (d: Uint8Array | Promise<Uint8Array>) => void };

class WorkerValidator implements Validator {
  readonly inFlight = 512;
  #worker: Worker;
  #next = 0;
  #waiting = new Map<number, Waiting>();
  #failed = false;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<WorkerAnswer>) => {
      const waiting = this.#waiting.get(e.data.id);
      if (!waiting || waiting.kind !== e.data.kind) return;
      this.#waiting.delete(e.data.id);
      if (e.data.kind === 'hash' && waiting.kind === 'hash') return waiting.done(e.data.digest);
      if (e.data.kind !== 'validate' || waiting.kind !== 'validate') return;
      const { texts } = waiting;
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
    const id = ++this.#next;
    return new Promise((done) => {
      this.#waiting.set(id, { kind: 'validate', texts, identity, done });
      this.#worker.postMessage({ kind: 'validate', id, texts, identity } satisfies WorkerJob);
    });
  }

  hasher(): BlobHasher {
    const id = ++this.#next;
    return {
      update: (chunk) => {
        if (!this.#failed) this.#worker.postMessage({ kind: 'hash', id, chunk } satisfies WorkerJob);
      },
      drop: () => {
        if (!this.#failed) this.#worker.postMessage({ kind: 'hash', id, drop: true } satisfies WorkerJob);
      },
      digest: (whole) => {
        if (this.#failed) return wholeDigest(whole);
        return new Promise((done) => {
          this.#waiting.set(id, { kind: 'hash', whole, done });
          this.#worker.postMessage({ kind: 'hash', id, end: true } satisfies WorkerJob);
        });
      },
    };
  }

  #fail(): void {
    this.#failed = true;
    this.#worker.terminate();
    for (const w of this.#waiting.values()) {
      if (w.kind === 'validate') w.done(validateHere.open(w.texts, w.identity));
      else w.done(wholeDigest(w.whole));
    }
    this.#waiting.clear();
  }
}

/** A whole blob hashed here: by WebCrypto (off this thread), or noble where there is none. */
async function wholeDigest(bytes: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return sha256(bytes);
  return new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
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
