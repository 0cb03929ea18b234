/**
 * Sharing reciprocity (design: "track incoming blob requests and outgoing
 * blob bandwidth to create a leech ratio"; docs/protocol.md §13.10). Every
 * blob this peer serves or receives is booked against the identity at the
 * other end of the link, which the session authenticated (§12): nobody can
 * spend another identity's standing. Serving runs in a few slots; when they
 * are all taken (busy), waiting requests are served in order of standing —
 * the account's own devices first, then the highest ratio of bytes received
 * from that identity to bytes served to it — and, among equals, first come.
 * A new identity starts at a ratio of 1 (both sides begin at GRACE bytes):
 * minting keys buys no more than a neutral place, never one ahead of someone
 * who gave.
 */
import type { Identity } from '../protocol/index.ts';
import { Emitter } from './events.ts';
import type { Store } from './store.ts';

const SETTING = 'reciprocity';
/** Bytes both sides start with, so a first exchange does not swing the ratio to 0 or infinity. */
export const GRACE = 64 * 1024;
/** Identities remembered; the least active go first. */
const KEPT = 2000;
/** Requests waiting for a slot, from one identity and in all; past them the answer is `rate_limited`. */
const WAITING_PER_IDENTITY = 8;
const WAITING = 256;

export interface Standing {
  readonly identity: Identity;
  /** Bytes of blobs this peer served to the identity. */
  readonly served: number;
  /** Bytes of blobs this peer received from the identity. */
  readonly received: number;
  /** (received + GRACE) / (served + GRACE): above 1 they gave more than they took. */
  readonly ratio: number;
}

interface Waiting {
  identity: Identity;
  seq: number;
  start: () => void;
}

export class BusyError extends Error {}

export class Reciprocity {
  readonly events = new Emitter<{ changed: Identity }>();
  #book = new Map<Identity, { served: number; received: number }>();
  #active = 0;
  #waiting: Waiting[] = [];
  #seq = 0;
  #loaded: Promise<void>;

  constructor(
    private readonly store: Store,
    private readonly options: { slots?: number; favoured?: (identity: Identity) => boolean } = {},
  ) {
    this.#loaded = this.#load();
  }

  get slots(): number {
    return this.options.slots ?? 2;
  }

  ratio(identity: Identity): number {
    const b = this.#book.get(identity);
    return ((b?.received ?? 0) + GRACE) / ((b?.served ?? 0) + GRACE);
  }

  /** Everyone booked, the best standing first. */
  standings(): Standing[] {
    return [...this.#book]
      .map(([identity, b]) => ({ identity, ...b, ratio: this.ratio(identity) }))
      .sort((a, b) => b.ratio - a.ratio || b.received + b.served - (a.received + a.served));
  }

  served(identity: Identity, bytes: number): void {
    this.#add(identity, bytes, 0);
  }

  received(identity: Identity, bytes: number): void {
    this.#add(identity, 0, bytes);
  }

  /**
   * A serving slot for a request from `identity`: at once while one is free,
   * otherwise when it is this request's turn. Call the release when done.
   * Throws BusyError when too many requests already wait.
   */
  acquire(identity: Identity): Promise<() => void> {
    if (this.#active < this.slots) {
      this.#active++;
      return Promise.resolve(this.#release());
    }
    if (this.#waiting.length >= WAITING || this.#waiting.filter((w) => w.identity === identity).length >= WAITING_PER_IDENTITY)
      return Promise.reject(new BusyError('busy: too many blob requests waiting; ask again later'));
    return new Promise((resolve) => this.#waiting.push({ identity, seq: this.#seq++, start: () => resolve(this.#release()) }));
  }

  /** Requests waiting for a slot (the Network screen shows it; tests wait on it). */
  get queued(): number {
    return this.#waiting.length;
  }

  #release(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#active--;
      this.#next();
    };
  }

  /** Standing is read when a slot frees, not when the request arrived: what happened meanwhile counts. */
  #next(): void {
    if (this.#active >= this.slots || this.#waiting.length === 0) return;
    const favoured = this.options.favoured ?? (() => false);
    const rank = (w: Waiting) => [favoured(w.identity) ? 1 : 0, this.ratio(w.identity), -w.seq] as const;
    let best = 0;
    for (let i = 1; i < this.#waiting.length; i++) {
      const [a, b] = [rank(this.#waiting[i] as Waiting), rank(this.#waiting[best] as Waiting)];
      if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))) best = i;
    }
    const [chosen] = this.#waiting.splice(best, 1);
    this.#active++;
    chosen?.start();
  }

  #add(identity: Identity, served: number, received: number): void {
    const b = this.#book.get(identity) ?? { served: 0, received: 0 };
    b.served += served;
    b.received += received;
    // Most recent last: the map's order is who goes first when over KEPT.
    this.#book.delete(identity);
    this.#book.set(identity, b);
    while (this.#book.size > KEPT) this.#book.delete(this.#book.keys().next().value as Identity);
    this.events.emit('changed', identity);
    void this.#save().catch(() => undefined);
  }

  async #save(): Promise<void> {
    await this.#loaded;
    await this.store.putSetting(
      SETTING,
      [...this.#book].map(([identity, b]) => [identity, b.served, b.received]),
    );
  }

  async #load(): Promise<void> {
    const stored = (await this.store.getSetting<[Identity, number, number][]>(SETTING)) ?? [];
    for (const [identity, served, received] of stored) {
      const now = this.#book.get(identity);
      this.#book.set(identity, { served: served + (now?.served ?? 0), received: received + (now?.received ?? 0) });
    }
  }
}
