/**
 * The frames of one feed pull, on their way into the replica: each frame is
 * validated as it arrives (a bounded number of entries at once), and the
 * validated frames are taken in, in order, each run checked against the
 * chain so far. While one write is under way, the frames validated meanwhile
 * wait and go in together with the next (up to WRITE_MAX entries): as many
 * transactions as the pace needs, no more.
 */
import type { Entry, Hash, Identity, Result } from '../protocol/index.ts';
import type { Replica } from './replica.ts';
import { validator } from './validator.ts';

/** Entries written at most in one go: a write's work on the main thread stays short. */
const WRITE_MAX = 400;

interface Frame {
  texts: readonly string[];
  results?: Result<Entry>[];
}

export class Intake {
  /** The last entry taken in: the next run must continue below it. */
  above: Entry | undefined;
  /** The hash the next entry must have. */
  expected: Hash | null;
  failed = false;
  received = 0;
  /** Frames pushed, and frames taken in (or given up on). */
  pushed = 0;
  #taken = 0;
  #queue: Frame[] = [];
  #validating = 0;
  #next = 0;
  #writing = false;
  #waiters: { upTo: number; done: () => void }[] = [];

  constructor(
    private readonly replica: Replica,
    private readonly identity: Identity,
    private readonly peer: Identity,
    expected: Hash,
    private readonly hooks: { strike(why: string): void; progress(received: number): void },
  ) {
    this.expected = expected;
  }

  /** A frame's entry texts, as they arrived. */
  push(texts: readonly string[]): void {
    this.#queue.push({ texts });
    this.pushed++;
    this.#validate();
  }

  /** An entry validated already (the head, sent along with `changes`). */
  offer(entry: Entry): void {
    this.#queue.push({ texts: [], results: [{ ok: true, value: entry }] });
    this.pushed++;
    void this.#write();
  }

  /** Resolves once the first `upTo` frames (all pushed so far, by default) are taken in, or the pull failed. */
  settled(upTo = this.pushed): Promise<void> {
    if (this.#taken >= upTo || this.failed) return Promise.resolve();
    return new Promise((done) => this.#waiters.push({ upTo, done }));
  }

  /** Start again below `above`, which the replica already holds (a gap under what a cut-short pull left). */
  continueBelow(above: Entry): void {
    this.above = above;
    this.expected = above.body.parent;
  }

  #validate(): void {
    const check = validator();
    for (; this.#next < this.#queue.length && this.#validating < check.inFlight; this.#next++) {
      const frame = this.#queue[this.#next] as Frame;
      if (frame.results) continue;
      this.#validating += frame.texts.length;
      void check.open(frame.texts, this.identity).then((results) => {
        frame.results = results;
        this.#validating -= frame.texts.length;
        this.#validate();
        void this.#write();
      });
    }
  }

  async #write(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    // The write before this one, still being stored: at most two are under way.
    let storing: { stored: Promise<void>; frames: number; entries: number } | null = null;
    const settle = async () => {
      if (!storing) return;
      const { stored, frames, entries } = storing;
      storing = null;
      try {
        await stored;
      } catch {
        // The store failed us (quota, eviction): not the peer's fault, but nothing more can go in.
        this.failed = true;
        return this.#wake();
      }
      this.received += entries;
      this.hooks.progress(this.received);
      this.#taken += frames;
      this.#wake();
    };
    try {
      while (!this.failed && this.#queue[0]?.results) {
        // Every frame validated by now goes in with this write (up to WRITE_MAX entries).
        const run: Entry[] = [];
        let frames = 0;
        for (const frame of this.#queue) {
          if (!frame.results || (frames > 0 && run.length + frame.results.length > WRITE_MAX)) break;
          frames++;
          for (const r of frame.results) {
            if (!r.ok) return this.#fail(`invalid entry for ${this.identity}: ${r.error.message}`);
            if (r.value.hash !== this.expected) return this.#fail(`entries for ${this.identity} are not the chain asked for`);
            run.push(r.value);
            this.expected = r.value.body.parent;
          }
        }
        this.#queue.splice(0, frames);
        this.#next = Math.max(0, this.#next - frames);
        const admitted = run.length > 0 ? this.replica.admit(this.identity, run, this.peer, this.above) : { stored: Promise.resolve() };
        if ('error' in admitted) return this.#fail(`refused entry: ${admitted.error.message}`);
        if (run.length > 0) this.above = run[run.length - 1];
        await settle();
        storing = { stored: admitted.stored, frames, entries: run.length };
        // Let the frames validated meanwhile gather before the next write.
        if (!this.#queue[0]?.results) await settle();
      }
    } finally {
      await settle();
      this.#writing = false;
    }
  }

  #fail(why: string): void {
    this.failed = true;
    this.hooks.strike(why);
    this.#wake();
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#taken < w.upTo && !this.failed) return true;
      w.done();
      return false;
    });
  }
}
