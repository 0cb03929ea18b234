/**
 * Feeds over one link, both ways (docs/protocol.md, `get_feed` → `entries`).
 *
 * Pulling: one `get_feed` asks for a window of entries (a few MiB: the first
 * small, later ones sized by the entries seen), which
 * the peer streams back in frames; when a window's last frame arrives the
 * next window is asked for at once (from the parent its last entry claims),
 * so the wire never waits on validation. The frames go through an intake
 * (intake.ts: validated as they arrive, taken in in order, each run checked
 * against the chain so far), so the head moves without walking the feed
 * again. At most one window waits ahead of what is taken in.
 *
 * Serving: a walk down the chain in one store read per frame, frames packed
 * to the channel's budget, produced as the channel drains.
 */
import { FramePacker, LIMITS, type Entry, type Hash, type Identity, type WireMessage, type WireOf } from '../protocol/index.ts';
import type { Channel } from './channel.ts';
import type { Replica } from './replica.ts';
import { Intake } from './intake.ts';

/** Entries asked for by the first get_feed of a pull, before their size is known. */
const FIRST_WINDOW = 1024;
/** Bytes a later window may bring: what may wait for validation is ours to bound, not the sender's. */
const WINDOW_BYTES = 8 * 1024 * 1024;
/** Entries read from the store at once when streaming: several frames' worth in one transaction. */
const SERVE_READ = 512;
/** Streamed answers served at once to one peer; more wait their turn (each may cost thousands of entries). */
const STREAMS = 4;
/** Entries fetched one by one (getblob) from a peer that serves no feed of the identity, e.g. a room holding only its head. */
const BY_HASH_MAX = 16;

export interface SyncProgress {
  readonly identity: Identity;
  readonly peer: Identity;
  readonly received: number;
  readonly done: boolean;
}

/** What feed transfers need from their link. */
export interface FeedLink {
  readonly peer: Identity;
  readonly channel: Channel;
  readonly replica: Replica;
  send(message: WireMessage): void;
  strike(reason: string): void;
  sync?: (progress: SyncProgress) => void;
  /** Entries were served to the peer (the mesh keeps the links that carry data). */
  useful?: () => void;
  /** An entry text by hash (getblob), for a peer that serves no feed of an identity but holds its newest entries (a room). */
  fetchEntry?: (hash: Hash) => Promise<string>;
  log?: (line: string) => void;
  timeoutMs: number;
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

/** One get_feed's answer, frame by frame: `texts` null when it ended without a last frame (refused, silent, closed). */
type OnFrame = (texts: readonly string[] | null, last: boolean) => void;

export class FeedTransfer {
  #streams = new Map<string, { identity: Identity; take: (msg: WireMessage) => void; fail: () => void }>();
  #next = 0;
  #pulling = new Map<Identity, Hash>();
  #serving = 0;
  #turns: (() => void)[] = [];

  constructor(private readonly link: FeedLink) {}

  /** Whether a message answers one of our get_feed requests. */
  answers(msg: WireMessage): boolean {
    return msg.re !== undefined && this.#streams.has(msg.re) && (msg.type === 'entries' || msg.type === 'error');
  }

  receive(msg: WireMessage): void {
    this.#streams.get(msg.re as string)?.take(msg);
  }

  /** The link ended: every stream ends. */
  end(): void {
    for (const s of [...this.#streams.values()]) s.fail();
    this.#streams.clear();
  }

  #ask(identity: Identity, from: Hash, known: Hash | null, limit: number, onFrame: OnFrame): void {
    const id = `f${++this.#next}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      clearTimeout(timer);
      this.#streams.delete(id);
    };
    const fail = () => {
      stop();
      onFrame(null, true);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.link.log?.(`get_feed of ${identity} from ${this.link.peer} went silent`);
        fail();
      }, this.link.timeoutMs);
    };
    const take = (msg: WireMessage) => {
      if (msg.type === 'error') return fail();
      if (msg.type !== 'entries') return;
      if (msg.identity !== identity) {
        this.link.strike(`entries for ${msg.identity} answer a get_feed of ${identity}`);
        return fail();
      }
      const last = msg.more !== true;
      if (last) stop();
      else arm();
      onFrame(msg.entries, last);
    };
    this.#streams.set(id, { identity, take, fail });
    arm();
    this.link.send({ type: 'get_feed', id, identity, from, known, limit });
  }

  /** One window from `from`: its frames go to `process`; resolves with the parent its last entry claims (null: nothing below, undefined: it failed). */
  #window(
    identity: Identity,
    from: Hash,
    known: Hash | null,
    limit: number,
    process: (texts: readonly string[]) => void,
  ): Promise<Hash | null | undefined> {
    return new Promise((resolve) => {
      let lastText: string | undefined;
      this.#ask(identity, from, known, limit, (texts, last) => {
        if (texts === null) return resolve(undefined);
        if (texts.length > 0) {
          lastText = texts[texts.length - 1];
          process(texts);
        }
        if (last) resolve(lastText === undefined ? null : claimedParent(lastText));
      });
    });
  }

  /**
   * Bring the replica up to `head` for a watched identity. `offered` is the
   * head entry itself when the peer sent it along (validated by the caller).
   * Resolves when done or given up.
   */
  async pull(identity: Identity, head: Hash, offered?: Entry): Promise<void> {
    const { replica, peer } = this.link;
    if (!replica.isWatched(identity) || this.#pulling.get(identity) === head) return;
    const current = await replica.head(identity);
    if (current?.hash === head) return;
    this.#pulling.set(identity, head);
    const known = current?.hash ?? null;
    const intake = new Intake(replica, identity, peer, head, {
      strike: (why) => this.link.strike(why),
      progress: (received) => this.link.sync?.({ identity, peer, received, done: false }),
    });
    /** Windows down from `from` until something held (or a root, or `known`); answers where it stopped. */
    const descend = async (from: Hash | null | undefined): Promise<Hash | null | undefined> => {
      let before = 0;
      let [count, bytes, limit] = [0, 0, FIRST_WINDOW];
      while (from && from !== known && !intake.failed && !this.link.channel.closed && !(await replica.store.hasEntry(from))) {
        from = await this.#window(identity, from, known, limit, (texts) => {
          count += texts.length;
          for (const t of texts) bytes += t.length;
          intake.push(texts);
        });
        limit = Math.max(LIMITS.feedBatch + 1, Math.min(LIMITS.feedLimit, Math.floor((WINDOW_BYTES * count) / Math.max(1, bytes))));
        // Ask for the next window now, but stay at most one window ahead of what is taken in.
        await intake.settled(before);
        before = intake.pushed;
      }
      await intake.settled();
      return from;
    };
    try {
      if (offered) intake.offer(offered);
      const stopped = await descend(offered ? offered.body.parent : head);
      if (intake.failed || this.link.channel.closed) return;
      if (stopped === undefined && intake.received === 0)
        return await this.#pullByHash(intake, identity, head, offered ? offered.body.parent : head, known);
      if ((await replica.considerHead(identity, head, intake.above))?.hash === head || !stopped || stopped === known) return;
      // The walk stopped at an entry held but not whole: a pull cut short earlier left a gap below it. Fill it, then walk it all.
      const bottom = (await replica.store.chain(stopped, { limit: Infinity, identity })).at(-1);
      const gap = bottom?.body.parent;
      if (!bottom || !gap || gap === known || (await replica.store.hasEntry(gap))) return;
      intake.continueBelow(bottom);
      await descend(gap);
      if (!intake.failed && !this.link.channel.closed) await replica.considerHead(identity, head);
    } catch (err) {
      this.link.log?.(`pull of ${identity} from ${peer} failed: ${(err as Error).message}`);
    } finally {
      if (this.#pulling.get(identity) === head) this.#pulling.delete(identity);
      if (intake.received > 0) this.link.sync?.({ identity, peer, received: intake.received, done: true });
    }
  }

  /**
   * The peer refused the feed (a room keeps no feed of the identity) but may
   * hold its newest entries (a room holds the heads it tracks): fetch them by
   * hash down to what the replica holds, then take them in as one run.
   */
  async #pullByHash(intake: Intake, identity: Identity, head: Hash, from: Hash | null, known: Hash | null): Promise<void> {
    const { replica } = this.link;
    const fetchEntry = this.link.fetchEntry;
    if (!fetchEntry) return;
    const texts: string[] = [];
    let at = from;
    while (at && at !== known && texts.length < BY_HASH_MAX && !(await replica.store.hasEntry(at))) {
      const text = await fetchEntry(at);
      texts.push(text);
      at = claimedParent(text);
    }
    // Nothing to take in, or it does not reach what we hold: give up (another peer may serve the feed).
    if (texts.length === 0 || (at && at !== known && !(await replica.store.hasEntry(at)))) return;
    intake.push(texts);
    await intake.settled();
    if (!intake.failed) await replica.considerHead(identity, head, intake.above);
  }

  /** Answer a get_feed: one frame for a `limit` up to `feedBatch` (as every peer does), a stream of frames for more. */
  async serve(msg: WireOf<'get_feed'>): Promise<void> {
    const stream = msg.limit > LIMITS.feedBatch;
    if (!stream) return this.#serve(msg, false);
    // A slot passes straight to the next in line, so never more than STREAMS run.
    if (this.#serving < STREAMS) this.#serving++;
    else await new Promise<void>((turn) => this.#turns.push(turn));
    try {
      await this.#serve(msg, true);
    } finally {
      const next = this.#turns.shift();
      if (next) next();
      else this.#serving--;
    }
  }

  async #serve(msg: WireOf<'get_feed'>, stream: boolean): Promise<void> {
    const { replica, channel } = this.link;
    const blocked = replica.isBlocked(msg.identity);
    if (!stream) {
      // One frame, as full as it gets.
      const packer = new FramePacker(channel.frameBudget);
      const run = blocked
        ? []
        : await replica.store.chain(msg.from, {
            limit: msg.limit,
            stop: msg.known,
            identity: msg.identity,
            fits: (e) => packer.take(e.text),
          });
      if (run.length > 0) this.link.useful?.();
      return this.link.send({ type: 'entries', re: msg.id, identity: msg.identity, entries: run.map((e) => e.text) });
    }
    let from: Hash | null = msg.from;
    let left = msg.limit;
    while (from && from !== msg.known && left > 0 && !blocked && !channel.closed) {
      // Several frames' worth in one read, then framed and sent as the channel takes them.
      const read = await replica.store.chain(from, { limit: Math.min(left, SERVE_READ), stop: msg.known, identity: msg.identity });
      if (read.length === 0) break;
      left -= read.length;
      this.link.useful?.();
      from = read[read.length - 1]!.body.parent;
      const last = !from || from === msg.known || left === 0 || read.length < Math.min(left + read.length, SERVE_READ);
      for (let i = 0; i < read.length;) {
        const packer = new FramePacker(channel.frameBudget);
        const frame: string[] = [];
        for (; i < read.length && frame.length < LIMITS.feedBatch && packer.take(read[i]!.text); i++) frame.push(read[i]!.text);
        const more = i < read.length || !last;
        this.link.send({ type: 'entries', re: msg.id, identity: msg.identity, entries: frame, ...(more && { more: true as const }) });
        if (!more) return;
        await channel.writable();
        if (channel.closed) return;
      }
    }
    // Nothing (more) to send from here: an empty last frame ends the stream.
    this.link.send({ type: 'entries', re: msg.id, identity: msg.identity, entries: [] });
  }
}
