/**
 * A link is one authenticated session with one peer, speaking the
 * replication half of the protocol both ways: it serves what the replica
 * holds (every client is a pub) and pulls what the replica watches.
 *
 * Pull: on [identity, head] for a watched identity, ask `get_feed` from
 * that head down to what we hold, validate every entry (full validation,
 * batched), check each link, store, then offer the head to the replica.
 * Serve: answer get_heads, get_feed, iwant and getblob (blob-transfer.ts)
 * from the store, unless the asker is blocked. Abuse (invalid entries, lies, floods) earns
 * strikes; enough strikes close the link.
 */
import {
  encodeWire,
  FRAME_BUDGET,
  FramePacker,
  LIMITS,
  openEntry,
  parseWire,
  wireErrorOf,
  type Entry,
  type Hash,
  type Identity,
  type Service,
  type WireMessage,
  type WireOf,
} from '../protocol/index.ts';
import { BlobTransfer, type BlobProgress } from './blob-transfer.ts';
import type { Channel } from './channel.ts';
import type { Replica } from './replica.ts';
import { TokenBucket } from './rate.ts';
import { Requests } from './requests.ts';
import type { Session } from './session.ts';

const REQUEST_TIMEOUT_MS = 20_000;
/** Entries fetched one by one (getblob) from a peer that serves no feed of the identity, e.g. a room holding only its head. */
const BY_HASH_MAX = 16;
const MAX_STRIKES = 5;
/** Frames per second a peer may send us, sustained and in a burst; replication needs far fewer. */
const FRAME_RATE = 200;
const FRAME_BURST = 400;

export type { BlobProgress } from './blob-transfer.ts';

export interface SyncProgress {
  readonly identity: Identity;
  readonly peer: Identity;
  readonly received: number;
  readonly done: boolean;
}

export interface LinkHooks {
  /** Messages the link does not handle itself (presence, drops, ...). */
  onOther?: (message: WireMessage) => void;
  /** A head this peer told us of, after the link tried to pull it from the peer itself. */
  onHeadHint?: (identity: Identity, head: Hash) => void;
  onBlobProgress?: (progress: BlobProgress) => void;
  /** Feed pull progress: entries received so far for one identity, and whether the pull ended. */
  onSync?: (progress: SyncProgress) => void;
  /** The peer said which services it provides. */
  onProvides?: (services: readonly Service[]) => void;
  onClose?: (reason: string) => void;
  log?: (line: string) => void;
}

/** The parent an unvalidated entry text names, read without trusting it (validation follows). */
function claimedParent(text: string): Hash | null {
  try {
    const parent = (JSON.parse(text.slice(0, text.lastIndexOf('\n'))) as { parent?: unknown }).parent;
    return typeof parent === 'string' ? (parent as Hash) : null;
  } catch {
    return null;
  }
}

export class Link {
  readonly peer: Identity;
  readonly channel: Channel;
  /** Services the peer said it provides. */
  services: readonly Service[] = [];
  /** Identities the peer asked us about: they hear our head changes for these. */
  readonly interests = new Set<Identity>();
  /** When the link last brought or took data (entries, blobs), or opened (performance.now()): the mesh drops the least recently useful first. */
  lastUseful = performance.now();
  #replica: Replica;
  #hooks: LinkHooks;
  #requests = new Requests<WireMessage>('q');
  #blobs: BlobTransfer;
  #pulling = new Map<Identity, Hash>();
  #strikes = 0;
  #bucket = new TokenBucket(FRAME_RATE, FRAME_BURST);
  #ended = false;
  #offHead: () => void;

  constructor(session: Session, replica: Replica, provides: readonly Service[], hooks: LinkHooks = {}) {
    this.peer = session.peer;
    this.channel = session.channel;
    this.#replica = replica;
    this.#hooks = hooks;
    this.#blobs = new BlobTransfer(
      {
        send: (m) => this.send(m),
        strike: (reason) => this.#strike(reason),
        progress: (p) => {
          this.lastUseful = performance.now();
          hooks.onBlobProgress?.(p);
        },
        timeoutMs: REQUEST_TIMEOUT_MS,
      },
      replica.store,
    );
    this.#offHead = replica.events.on('head', (h) => {
      if (this.interests.has(h.identity) && !replica.isBlocked(this.peer)) this.send({ type: 'head', identity: h.identity, head: h.hash });
    });
    this.channel.onClose = (reason) => this.#closed(reason);
    this.channel.read((frame) => void this.#receive(frame));
    this.send({ type: 'provides', services: [...provides] });
  }

  get closed(): boolean {
    return this.channel.closed;
  }

  send(message: WireMessage): void {
    this.channel.send(encodeWire(message));
  }

  close(reason = 'closed'): void {
    this.channel.close(reason);
    this.#closed(reason);
  }

  /** Send a request and wait for the message that answers it (`re`). */
  request(message: WireMessage & { id?: string }, timeoutMs = REQUEST_TIMEOUT_MS): Promise<WireMessage> {
    return this.#requests.ask(
      (id) => this.send({ ...message, id }),
      timeoutMs,
      () => new Error(`${message.type} to ${this.peer} timed out`),
    );
  }

  /** Ask the peer for its heads of the identities we watch (or of some), then pull what is newer. */
  async syncWatched(identities: readonly Identity[] = this.#replica.watched()): Promise<void> {
    for (let i = 0; i < identities.length; i += LIMITS.listItems) {
      const reply = await this.request({ type: 'get_heads', identities: identities.slice(i, i + LIMITS.listItems) });
      if (reply.type === 'last_known_heads') await Promise.all(reply.heads.map(([identity, head]) => this.pull(identity, head)));
    }
  }

  /** Bring the replica up to `head` for a watched identity. Resolves when done or given up. */
  async pull(identity: Identity, head: Hash): Promise<void> {
    if (!this.#replica.isWatched(identity) || this.#pulling.get(identity) === head) return;
    const current = await this.#replica.head(identity);
    if (current?.hash === head) return;
    this.#pulling.set(identity, head);
    let received = 0;
    const ask = (from: Hash) => {
      const reply = this.request({ type: 'get_feed', identity, from, known: current?.hash ?? null, limit: LIMITS.feedBatch });
      reply.catch(() => undefined); // a prefetch abandoned after a refusal must not go unhandled
      return reply;
    };
    try {
      let inflight: Promise<WireMessage> | null = (await this.#replica.store.hasEntry(head)) ? null : ask(head);
      let from: Hash = head;
      while (inflight && !this.closed) {
        const reply: WireMessage = await inflight;
        inflight = null;
        if (reply.type === 'error' && received === 0) return await this.#pullByHash(identity, head);
        if (reply.type !== 'entries' || reply.entries.length === 0) return;
        // Ask for the next batch before validating this one, so the round trip
        // overlaps the signature checks; the guess is confirmed below.
        const guess = claimedParent(reply.entries[reply.entries.length - 1] as string);
        const prefetch = guess && !(await this.#replica.store.hasEntry(guess)) ? guess : null;
        if (prefetch) inflight = ask(prefetch);
        const run = await this.#validateRun(identity, from, reply.entries);
        if (!run) return;
        const refused = await this.#replica.accept(identity, run, this.peer);
        if (refused) return this.#strike(`refused entry: ${refused.message}`);
        received += run.length;
        this.lastUseful = performance.now();
        this.#hooks.onSync?.({ identity, peer: this.peer, received, done: false });
        if (prefetch) from = prefetch;
      }
      await this.#replica.considerHead(identity, head);
    } catch (err) {
      this.#hooks.log?.(`pull of ${identity} from ${this.peer} failed: ${(err as Error).message}`);
    } finally {
      if (this.#pulling.get(identity) === head) this.#pulling.delete(identity);
      if (received > 0) this.#hooks.onSync?.({ identity, peer: this.peer, received, done: true });
    }
  }

  /**
   * The peer keeps no feed of `identity` but may hold its newest entries (a
   * room holds the heads it tracks): fetch them by hash down to what we hold.
   */
  async #pullByHash(identity: Identity, head: Hash): Promise<void> {
    const texts: string[] = [];
    let at: Hash | null = head;
    while (at && texts.length < BY_HASH_MAX && !(await this.#replica.store.hasEntry(at))) {
      const text: string = new TextDecoder().decode(await this.#blobs.fetch(at, LIMITS.entryBytes));
      texts.push(text);
      at = claimedParent(text);
    }
    const run = await this.#validateRun(identity, head, texts);
    if (!run || (at && !(await this.#replica.store.hasEntry(at)))) return;
    if (await this.#replica.accept(identity, run, this.peer)) return;
    await this.#replica.considerHead(identity, head);
  }

  async #pullThenHint(identity: Identity, head: Hash): Promise<void> {
    await this.pull(identity, head);
    if ((await this.#replica.head(identity))?.hash !== head) this.#hooks.onHeadHint?.(identity, head);
  }

  /** Validate a batch (all in flight), then check it is one unbroken run starting at `from`. */
  async #validateRun(identity: Identity, from: Hash, texts: readonly string[]): Promise<Entry[] | null> {
    const opened = await Promise.all(texts.map((t) => openEntry(t, { identity })));
    const run: Entry[] = [];
    let expected: Hash | null = from;
    for (const r of opened) {
      if (!r.ok) {
        this.#strike(`invalid entry for ${identity}: ${r.error.message}`);
        return null;
      }
      if (expected === null || r.value.hash !== expected) {
        this.#strike(`entries for ${identity} are not the chain asked for`);
        return null;
      }
      run.push(r.value);
      expected = r.value.body.parent;
    }
    return run;
  }

  /** Fetch a blob by hash, verified, with progress; stored in the replica's store. */
  async fetchBlob(hash: Hash, maxsize: number = LIMITS.blobBytes): Promise<Uint8Array> {
    const bytes = await this.#blobs.fetch(hash, maxsize);
    await this.#replica.store.putBlob(hash, bytes);
    return bytes;
  }

  async #receive(frame: string): Promise<void> {
    if (!this.#bucket.take()) {
      this.send({ type: 'error', code: 'rate_limited', message: `more than ${FRAME_RATE} frames/s` });
      return this.#strike('flooding');
    }
    const parsed = parseWire(frame);
    if (!parsed.ok) {
      this.send({ type: 'error', code: wireErrorOf(parsed.error.code), message: parsed.error.message });
      return this.#strike(parsed.error.message);
    }
    const msg = parsed.value;
    if (msg.re !== undefined) {
      if (this.#blobs.answers(msg)) return this.#blobs.receive(msg);
      if (this.#requests.answer(msg.re, msg)) return;
    }
    const blocked = this.#replica.isBlocked(this.peer);
    switch (msg.type) {
      case 'provides':
        this.services = msg.services;
        this.#hooks.onProvides?.(msg.services);
        return;
      case 'ping':
        return this.send({ type: 'pong' });
      case 'get_heads': {
        for (const i of msg.identities) this.interests.add(i);
        const heads: [Identity, Hash][] = [];
        if (!blocked) {
          for (const identity of msg.identities) {
            if (this.#replica.isBlocked(identity)) continue;
            const h = await this.#replica.head(identity);
            if (h) heads.push([identity, h.hash]);
          }
        }
        return this.send({ type: 'last_known_heads', re: msg.id, heads });
      }
      case 'last_known_heads':
        for (const [identity, head] of msg.heads) void this.#pullThenHint(identity, head);
        return;
      case 'head':
        return void this.#pullThenHint(msg.identity, msg.head);
      case 'get_feed':
        return blocked ? this.#refuse(msg.id) : this.#serveFeed(msg);
      case 'iwant':
        return blocked ? this.#refuse(msg.id) : this.#serveIhave(msg);
      case 'getblob':
        if (blocked) return this.#refuse(msg.id);
        this.lastUseful = performance.now();
        return this.#blobs.serve(msg);
      default:
        this.#hooks.onOther?.(msg);
    }
  }

  #refuse(id: string | undefined): void {
    this.send({ type: 'error', re: id, code: 'forbidden', message: 'blocked' });
  }

  async #serveFeed(msg: WireOf<'get_feed'>): Promise<void> {
    const entries: string[] = [];
    const frame = new FramePacker(FRAME_BUDGET.relayable);
    let at = this.#replica.isBlocked(msg.identity) ? undefined : await this.#replica.store.getEntry(msg.from);
    while (at && at.body.identity === msg.identity && at.hash !== msg.known && entries.length < msg.limit) {
      if (!frame.take(at.text)) break;
      entries.push(at.text);
      at = at.body.parent ? await this.#replica.store.getEntry(at.body.parent) : undefined;
    }
    if (entries.length > 0) this.lastUseful = performance.now();
    this.send({ type: 'entries', re: msg.id, identity: msg.identity, entries });
  }

  async #serveIhave(msg: WireOf<'iwant'>): Promise<void> {
    const blobs: [Hash, number][] = [];
    for (const hash of msg.hashes) {
      const size = (await this.#replica.store.blobSize(hash)) ?? (await this.#replica.store.getEntry(hash))?.size;
      if (size !== undefined) blobs.push([hash, size]);
    }
    this.send({ type: 'ihave', re: msg.id, blobs });
  }

  #strike(reason: string): void {
    if (this.#ended) return;
    this.#hooks.log?.(`${this.peer}: ${reason}`);
    if (++this.#strikes >= MAX_STRIKES) this.close('too many protocol violations');
  }

  #closed(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#offHead();
    this.#requests.failAll(new Error(`link closed: ${reason}`));
    this.#blobs.end(reason);
    this.#hooks.onClose?.(reason);
  }
}
