/**
 * Blobs over one link, both ways (docs/protocol.md, `getblob` → `blob`):
 * serving a blob we hold (an entry's text counts, by its hash) in chunks,
 * and fetching one, reassembled in order and checked against its hash, with
 * progress. A chunk that breaks the order or a blob that does not hash to
 * its name earns the sender a strike.
 */
import { fromBase64url, hashOf, LIMITS, toBase64url, type Hash, type WireMessage, type WireOf } from '../protocol/index.ts';
import { Requests } from './requests.ts';
import type { Store } from './store.ts';

export interface BlobProgress {
  readonly hash: Hash;
  readonly done: number;
  readonly total: number;
}

/** What the transfer needs from its link. */
export interface BlobLink {
  send(message: WireMessage): void;
  strike(reason: string): void;
  progress?: (progress: BlobProgress) => void;
  /** The least time a fetch is given; larger blobs get more. */
  timeoutMs: number;
}

/** A blob arriving in chunks, for the `getblob` request of the same id. */
interface Incoming {
  hash: Hash;
  total: number;
  chunks: Uint8Array[];
  received: number;
}

export class BlobTransfer {
  #fetches = new Requests<Uint8Array>('b');
  #incoming = new Map<string, Incoming>();

  constructor(
    private readonly link: BlobLink,
    private readonly store: Store,
  ) {}

  /** Ask for a blob by hash; resolves with its bytes, verified. */
  fetch(hash: Hash, maxsize: number): Promise<Uint8Array> {
    return this.#fetches.ask(
      (id) => {
        this.#incoming.set(id, { hash, total: -1, chunks: [], received: 0 });
        this.link.send({ type: 'getblob', id, hash, maxsize });
      },
      Math.max(this.link.timeoutMs, maxsize / 50),
      (id) => {
        this.#incoming.delete(id);
        return new Error(`blob ${hash} timed out`);
      },
    );
  }

  /** Whether a message belongs to one of our fetches (a chunk, or the error that ends it). */
  answers(msg: WireMessage): boolean {
    return msg.re !== undefined && (msg.type === 'blob' || (msg.type === 'error' && this.#incoming.has(msg.re)));
  }

  /** Take a chunk (or an error) for one of our fetches. */
  receive(msg: WireMessage): void {
    const re = msg.re as string;
    const into = this.#incoming.get(re);
    if (!into) return;
    // Settled at once, so a chunk still on its way finds nothing to add to.
    const fail = (why: string) => {
      this.#incoming.delete(re);
      this.#fetches.fail(re, new Error(why));
    };
    if (msg.type === 'error') return fail(`${msg.code}: ${msg.message}`);
    if (msg.type !== 'blob') return;
    const data = fromBase64url(msg.data);
    if (msg.hash !== into.hash || !data.ok || msg.offset !== into.received || (into.total >= 0 && msg.total !== into.total)) {
      this.link.strike(`blob ${into.hash}: chunk out of order or malformed`);
      return fail('malformed blob chunk');
    }
    into.total = msg.total;
    into.chunks.push(data.value);
    into.received += data.value.length;
    if (into.received > into.total) return fail('blob longer than announced');
    this.link.progress?.({ hash: into.hash, done: into.received, total: into.total });
    if (into.received < into.total) return;
    this.#incoming.delete(re);
    const whole = new Uint8Array(into.total);
    let at = 0;
    for (const c of into.chunks) {
      whole.set(c, at);
      at += c.length;
    }
    if (hashOf(whole) !== into.hash) {
      this.link.strike(`blob ${into.hash} does not hash to its name`);
      return this.#fetches.fail(re, new Error('blob does not match its hash'));
    }
    this.#fetches.answer(re, whole);
  }

  /** Answer a `getblob` from the store, in chunks. */
  async serve(msg: WireOf<'getblob'>): Promise<void> {
    const entry = await this.store.getEntry(msg.hash);
    const bytes = (await this.store.getBlob(msg.hash)) ?? (entry ? new TextEncoder().encode(entry.text) : undefined);
    if (!bytes) return this.link.send({ type: 'error', re: msg.id, code: 'not_found', message: `no blob ${msg.hash}` });
    if (bytes.length > msg.maxsize) {
      return this.link.send({
        type: 'error',
        re: msg.id,
        code: 'too_big',
        message: `blob is ${bytes.length} bytes, over maxsize ${msg.maxsize}`,
      });
    }
    for (let offset = 0; offset < bytes.length || offset === 0; offset += LIMITS.blobChunkBytes) {
      const data = toBase64url(bytes.subarray(offset, offset + LIMITS.blobChunkBytes));
      this.link.send({ type: 'blob', re: msg.id, hash: msg.hash, offset, total: bytes.length, data });
      if (bytes.length === 0) break;
    }
  }

  /** The link ended: every fetch fails. */
  end(reason: string): void {
    this.#fetches.failAll(new Error(`link closed: ${reason}`));
    this.#incoming.clear();
  }
}
