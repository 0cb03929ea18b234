/**
 * A link is one authenticated session with one peer, speaking the
 * replication half of the protocol both ways: it serves what the replica
 * holds (every client is a pub) and pulls what the replica watches.
 *
 * Its parts: feeds (feed-transfer.ts: streamed get_feed, validation off the
 * main thread), blobs (blob-transfer.ts) and, with peers, per-peer notes
 * (notes.ts: reconnecting costs what changed). Here: dispatch, head
 * tracking, and abuse control — invalid entries, lies and floods earn
 * strikes; enough strikes close the link. Answers to our own requests
 * (entries, blob chunks) never count as a flood: we asked for them, and
 * their size is ours to bound.
 */
import {
  decodeBlobChunk,
  encodeWire,
  LIMITS,
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
import { FeedTransfer, type SyncProgress } from './feed-transfer.ts';
import { LinkNotes } from './notes.ts';
import type { Replica } from './replica.ts';
import { TokenBucket } from './rate.ts';
import { Requests } from './requests.ts';
import type { Session } from './session.ts';

const REQUEST_TIMEOUT_MS = 20_000;
/** How often a request answered `rate_limited` is sent again (after 1, 2 and 4 s). */
const RATE_LIMITED_RETRIES = 3;
const MAX_STRIKES = 5;
/** Frames per second a peer may send us unasked, sustained and in a burst; replication needs far fewer. */
const FRAME_RATE = 200;
const FRAME_BURST = 400;

export type { BlobProgress } from './blob-transfer.ts';
export type { SyncProgress } from './feed-transfer.ts';

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
  /** Keep per-peer notes with this peer (docs/protocol.md §13.7); otherwise every sync is the full get_heads exchange (rooms). */
  notes?: boolean;
  /** Blob bytes booked per identity, and serving slots in order of reciprocity (reciprocity.ts, §13.10). */
  blobs?: BlobAccounting;
}

/** What reciprocity.ts offers a link. */
export interface BlobAccounting {
  /** Wait for a serving slot; rejects when too many requests wait. */
  acquire(peer: Identity): Promise<() => void>;
  served(peer: Identity, bytes: number): void;
  received(peer: Identity, bytes: number): void;
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
  #feeds: FeedTransfer;
  #notes: LinkNotes | null;
  /** Heads the peer told us it holds: our head moving there is no news to it. */
  #theirHeads = new Map<Identity, Hash>();
  #strikes = 0;
  #bucket = new TokenBucket(FRAME_RATE, FRAME_BURST);
  #ended = false;
  #offHead: () => void;

  constructor(session: Session, replica: Replica, provides: readonly Service[], hooks: LinkHooks = {}) {
    this.peer = session.peer;
    this.channel = session.channel;
    this.#replica = replica;
    this.#hooks = hooks;
    const link = {
      peer: this.peer,
      channel: this.channel,
      replica,
      send: (m: WireMessage) => this.send(m),
      strike: (reason: string) => this.#strike(reason),
      timeoutMs: REQUEST_TIMEOUT_MS,
      ...(hooks.log && { log: hooks.log }),
    };
    const useful = () => {
      this.lastUseful = performance.now();
    };
    const progress = (p: BlobProgress) => {
      useful();
      hooks.onBlobProgress?.(p);
    };
    const sync = (p: SyncProgress) => {
      if (p.received > 0) useful();
      hooks.onSync?.(p);
    };
    this.#blobs = new BlobTransfer({ ...link, progress }, replica.store);
    this.#feeds = new FeedTransfer({
      ...link,
      sync,
      useful,
      fetchEntry: async (hash) => new TextDecoder().decode(await this.#blobs.fetch(hash, LIMITS.entryBytes)),
    });
    this.#notes = hooks.notes
      ? new LinkNotes({
          ...link,
          interests: this.interests,
          request: (m) => this.request(m),
          pull: (identity, head, offered) => this.#pullThenHint(identity, head, offered),
          syncHeads: (identities) => this.#syncHeads(identities),
          theyHave: (identity, head) => this.#theirHeads.set(identity, head),
        })
      : null;
    this.#offHead = replica.events.on('head', (h) => {
      if (replica.isBlocked(this.peer)) return;
      const theyHaveIt = this.#theirHeads.get(h.identity) === h.hash;
      if (this.#notes?.onHead(h, theyHaveIt)) return;
      if (this.interests.has(h.identity) && !theyHaveIt) this.send({ type: 'head', identity: h.identity, head: h.hash });
    });
    this.channel.onClose = (reason) => this.#closed(reason);
    this.channel.onBytes = (bytes) => this.#receiveBytes(bytes);
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

  /**
   * Send a request and wait for the message that answers it (`re`). One
   * answered `rate_limited` is sent again after a pause (1, 2, 4 s): the
   * answerer dropped it unread, and an honest client slows down rather than
   * failing (a burst of posts can spend a room's per-socket budget).
   */
  async request(message: WireMessage & { id?: string }, timeoutMs = REQUEST_TIMEOUT_MS): Promise<WireMessage> {
    for (let attempt = 0; ; attempt++) {
      const reply = await this.#requests.ask(
        // `type` and `id` first: a room that drops the frame unread finds the id in its first bytes (§13.4).
        (id) => this.send(Object.assign({ type: message.type, id }, message, { id })),
        timeoutMs,
        () => new Error(`${message.type} to ${this.peer} timed out`),
      );
      if (reply.type !== 'error' || reply.code !== 'rate_limited' || attempt >= RATE_LIMITED_RETRIES || this.closed) return reply;
      await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt));
    }
  }

  /**
   * Ask the peer for the heads of the identities we watch (or of some), then
   * pull what is newer. With notes, the first sync of a connection asks only
   * what changed since the last.
   */
  async syncWatched(identities?: readonly Identity[]): Promise<void> {
    if (this.#notes && identities === undefined) return this.#notes.reconcile();
    const asked = identities ?? this.#replica.watched();
    this.#notes?.watchMore(asked);
    await this.#syncHeads(asked);
  }

  async #syncHeads(identities: readonly Identity[]): Promise<void> {
    for (let i = 0; i < identities.length; i += LIMITS.listItems) {
      const reply = await this.request({ type: 'get_heads', identities: identities.slice(i, i + LIMITS.listItems) });
      if (reply.type === 'last_known_heads') await Promise.all(reply.heads.map(([identity, head]) => this.#pullThenHint(identity, head)));
    }
  }

  /** Bring the replica up to `head` for a watched identity. Resolves when done or given up. */
  pull(identity: Identity, head: Hash, offered?: Entry): Promise<void> {
    return this.#feeds.pull(identity, head, offered);
  }

  async #pullThenHint(identity: Identity, head: Hash, offered?: Entry): Promise<void> {
    this.#theirHeads.set(identity, head);
    await this.pull(identity, head, offered);
    if ((await this.#replica.head(identity))?.hash !== head) this.#hooks.onHeadHint?.(identity, head);
  }

  /** Fetch a blob by hash, verified, with progress; kept in the replica's store (written on its own time: the bytes are good now). */
  async fetchBlob(hash: Hash, maxsize: number = LIMITS.blobBytes): Promise<Uint8Array> {
    const bytes = await this.#blobs.fetch(hash, maxsize);
    this.#hooks.blobs?.received(this.peer, bytes.length);
    this.#replica.store.putBlob(hash, bytes).catch((err: Error) => this.#hooks.log?.(`blob ${hash} not kept: ${err.message}`));
    return bytes;
  }

  #receiveBytes(bytes: Uint8Array): void {
    const chunk = decodeBlobChunk(bytes);
    if (chunk.ok && this.#blobs.awaits(chunk.value.re)) return this.#blobs.receiveChunk(chunk.value);
    if (!this.#bucket.take()) return this.#strike('flooding');
    this.#strike(chunk.ok ? `a blob chunk for ${chunk.value.re}, which we did not ask for` : `binary message: ${chunk.error.message}`);
  }

  async #receive(frame: string): Promise<void> {
    // Past the rate, only answers to our own requests get through.
    const flooding = !this.#bucket.take();
    const parsed = parseWire(frame);
    if (!parsed.ok) {
      this.send({ type: 'error', code: wireErrorOf(parsed.error.code), message: parsed.error.message });
      return this.#strike(parsed.error.message);
    }
    const msg = parsed.value;
    if (msg.re !== undefined) {
      if (this.#feeds.answers(msg)) return this.#feeds.receive(msg);
      if (this.#blobs.answers(msg)) return this.#blobs.receive(msg);
      if (this.#notes?.answers(msg)) return this.#notes.receive(msg);
      if (this.#requests.answer(msg.re, msg)) return;
    }
    if (flooding) {
      this.send({ type: 'error', code: 'rate_limited', message: `more than ${FRAME_RATE} frames/s` });
      return this.#strike('flooding');
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
      case 'interests':
        return blocked || !this.#notes ? this.#unavailable(msg.id) : this.#notes.onInterests(msg);
      case 'get_changes':
        return blocked || !this.#notes ? this.#unavailable(msg.id) : this.#notes.onGetChanges(msg);
      case 'changes':
        return this.#notes?.pushed(msg);
      case 'get_feed':
        return blocked ? this.#refuse(msg.id) : this.#feeds.serve(msg);
      case 'iwant':
        return blocked ? this.#refuse(msg.id) : this.#serveIhave(msg.id, msg.hashes);
      case 'getblob':
        if (blocked) return this.#refuse(msg.id);
        this.lastUseful = performance.now();
        return this.#serveBlob(msg);
      default:
        this.#hooks.onOther?.(msg);
    }
  }

  /** Serve in a slot when reciprocity is kept (§13.10): when busy, in order of the asker's standing. */
  async #serveBlob(msg: WireOf<'getblob'>): Promise<void> {
    const accounting = this.#hooks.blobs;
    if (!accounting) return void (await this.#blobs.serve(msg));
    let release: () => void;
    try {
      release = await accounting.acquire(this.peer);
    } catch (err) {
      return this.send({ type: 'error', re: msg.id, code: 'rate_limited', message: (err as Error).message });
    }
    try {
      if (this.channel.closed) return;
      const sent = await this.#blobs.serve(msg);
      if (sent > 0) accounting.served(this.peer, sent);
    } finally {
      release();
    }
  }

  #refuse(id: string | undefined): void {
    this.send({ type: 'error', re: id, code: 'forbidden', message: 'blocked' });
  }

  #unavailable(id: string | undefined): void {
    this.send({ type: 'error', re: id, code: 'unavailable', message: 'no notes kept with this peer: use get_heads' });
  }

  async #serveIhave(id: string | undefined, hashes: readonly Hash[]): Promise<void> {
    const blobs: [Hash, number][] = [];
    for (const hash of hashes) {
      const size = (await this.#replica.store.blobSize(hash)) ?? (await this.#replica.store.getEntry(hash))?.size;
      if (size !== undefined) blobs.push([hash, size]);
    }
    this.send({ type: 'ihave', re: id, blobs });
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
    this.#feeds.end();
    this.#notes?.end();
    this.#hooks.onClose?.(reason);
  }
}
