/**
 * Blobs over one link, both ways (docs/protocol.md, `getblob` → `blob`):
 * serving a blob we hold (an entry's text counts, by its hash) in chunks,
 * produced as the channel drains rather than queued whole; and fetching one,
 * written in place as chunks arrive. On a channel that carries binary messages
 * (a data channel) the chunks travel as bytes (§13.1 rule 11), elsewhere as
 * base64url `blob` frames. Chunks are hashed as they arrive, by the Worker
 * that validates entries (off the main thread), so the digest is ready when
 * the last chunk is.
 * A chunk that breaks the order or a blob that does not hash to its name
 * earns the sender a strike.
 */
import {
  encodeBlobChunk,
  fromBase64url,
  hashText,
  LIMITS,
  toBase64url,
  type BlobChunk,
  type Hash,
  type WireMessage,
  type WireOf,
} from '../protocol/index.ts';
import type { Channel } from './channel.ts';
import { Requests } from './requests.ts';
import type { Store } from './store.ts';
import { validator, type BlobHasher } from './validator.ts';

export interface BlobProgress {
  readonly hash: Hash;
  readonly done: number;
  readonly total: number;
}

/** What the transfer needs from its link. */
export interface BlobLink {
  readonly channel: Channel;
  send(message: WireMessage): void;
  strike(reason: string): void;
  progress?: (progress: BlobProgress) => void;
  /** The least time a fetch is given; larger blobs get more. */
  timeoutMs: number;
}

/** A blob arriving in chunks, for the `getblob` request of the same id. */
interface Incoming {
  hash: Hash;
  maxsize: number;
  /** -1 until the first chunk says. */
  total: number;
  whole: Uint8Array;
  received: number;
  hasher: BlobHasher;
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
    const binary = this.link.channel.binary;
    return this.#fetches.ask(
      (id) => {
        this.#incoming.set(id, { hash, maxsize, total: -1, whole: new Uint8Array(0), received: 0, hasher: validator().hasher() });
        this.link.send({ type: 'getblob', id, hash, maxsize, ...(binary && { binary: true as const }) });
      },
      Math.max(this.link.timeoutMs, maxsize / 50),
      (id) => {
        this.#incoming.get(id)?.hasher.drop();
        this.#incoming.delete(id);
        return new Error(`blob ${hash} timed out`);
      },
    );
  }

  /** Whether a message belongs to one of our fetches (a chunk, or the error that ends it). */
  answers(msg: WireMessage): boolean {
    return msg.re !== undefined && this.#incoming.has(msg.re) && (msg.type === 'blob' || msg.type === 'error');
  }

  /** Whether a binary chunk answers one of our fetches. */
  awaits(re: string): boolean {
    return this.#incoming.has(re);
  }

  /** Take a `blob` frame (or an error) for one of our fetches. */
  receive(msg: WireMessage): void {
    const re = msg.re as string;
    const into = this.#incoming.get(re);
    if (!into) return;
    if (msg.type === 'error') return this.#fail(re, `${msg.code}: ${msg.message}`);
    if (msg.type !== 'blob') return;
    const data = fromBase64url(msg.data);
    if (msg.hash !== into.hash || !data.ok) {
      this.link.strike(`blob ${into.hash}: malformed chunk`);
      return this.#fail(re, 'malformed blob chunk');
    }
    this.#take(re, into, msg.offset, msg.total, data.value);
  }

  /** Take a binary chunk for one of our fetches. */
  receiveChunk(chunk: BlobChunk): void {
    const into = this.#incoming.get(chunk.re);
    if (into) this.#take(chunk.re, into, chunk.offset, chunk.total, chunk.data);
  }

  #take(re: string, into: Incoming, offset: number, total: number, data: Uint8Array): void {
    if (offset !== into.received || (into.total >= 0 && total !== into.total) || total > into.maxsize) {
      this.link.strike(`blob ${into.hash}: chunk out of order or over its size`);
      return this.#fail(re, 'blob chunk out of order or over its size');
    }
    if (into.total < 0) {
      into.total = total;
      into.whole = new Uint8Array(total);
    }
    if (into.received + data.length > into.total) return this.#fail(re, 'blob longer than announced');
    into.whole.set(data, into.received);
    into.hasher.update(data);
    into.received += data.length;
    this.link.progress?.({ hash: into.hash, done: into.received, total: into.total });
    if (into.received < into.total) return;
    this.#incoming.delete(re);
    void into.hasher.digest(into.whole).then((digest) => {
      if (hashText(digest) === into.hash) return void this.#fetches.answer(re, into.whole);
      this.link.strike(`blob ${into.hash} does not hash to its name`);
      this.#fetches.fail(re, new Error('blob does not match its hash'));
    });
  }

  /** Settled at once, so a chunk still on its way finds nothing to add to. */
  #fail(re: string, why: string): void {
    this.#incoming.get(re)?.hasher.drop();
    this.#incoming.delete(re);
    this.#fetches.fail(re, new Error(why));
  }

  /** Answer a `getblob` from the store, in chunks produced as the channel takes them. */
  async serve(msg: WireOf<'getblob'>): Promise<void> {
    const { channel } = this.link;
    const bytes =
      (await this.store.getBlob(msg.hash)) ?? (await this.store.getEntry(msg.hash).then((e) => e && new TextEncoder().encode(e.text)));
    if (!bytes) return this.link.send({ type: 'error', re: msg.id, code: 'not_found', message: `no blob ${msg.hash}` });
    if (bytes.length > msg.maxsize) {
      return this.link.send({
        type: 'error',
        re: msg.id,
        code: 'too_big',
        message: `blob is ${bytes.length} bytes, over maxsize ${msg.maxsize}`,
      });
    }
    const binary = msg.binary === true && channel.binary && msg.id !== undefined;
    const size = binary ? LIMITS.blobBinaryBytes : LIMITS.blobChunkBytes;
    for (let offset = 0; offset < bytes.length || offset === 0; offset += size) {
      await channel.writable();
      if (channel.closed) return;
      const data = bytes.subarray(offset, offset + size);
      if (binary) channel.sendBytes(encodeBlobChunk({ re: msg.id as string, offset, total: bytes.length, data }));
      else this.link.send({ type: 'blob', re: msg.id, hash: msg.hash, offset, total: bytes.length, data: toBase64url(data) });
      if (bytes.length === 0) break;
    }
  }

  /** The link ended: every fetch fails. */
  end(reason: string): void {
    this.#fetches.failAll(new Error(`link closed: ${reason}`));
    for (const into of this.#incoming.values()) into.hasher.drop();
    this.#incoming.clear();
  }
}
