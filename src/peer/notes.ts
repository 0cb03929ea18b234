/**
 * Per-peer notes over one link (docs/protocol.md §13.7), in the manner of
 * Scuttlebutt's EBT: reconnecting costs what changed, not what is followed.
 *
 * Each side keeps a change log of its heads (every head set gets the next
 * `seq`; the log's `epoch` names the store, so a wiped store starts a new
 * one). A peer registers its interest list once (`interests`, then only what
 * was added or removed, checked by digest), and on every connection asks
 * `get_changes` since the position it holds: the answer lists only the
 * heads that changed, with their entries, so one round trip brings it up to
 * date. While linked, changes are pushed the same way as they happen.
 *
 * Notes are kept only with identities this peer watches (its own devices,
 * whom it follows): anyone else is answered `forbidden` and gets the full
 * exchange on every connection, so a stranger can make us keep nothing.
 */
import { interestDigest, LIMITS, type Entry, type Hash, type Identity, type WireMessage, type WireOf } from '../protocol/index.ts';
import type { Channel } from './channel.ts';
import type { Replica } from './replica.ts';
import { changesFrames, epochOf } from './change-log.ts';
import type { LoggedHead, PeerNote, StoredHead } from './store.ts';
import { validator } from './validator.ts';

export interface NotesLink {
  readonly peer: Identity;
  readonly channel: Channel;
  readonly replica: Replica;
  readonly interests: Set<Identity>;
  send(message: WireMessage): void;
  request(message: WireMessage): Promise<WireMessage>;
  pull(identity: Identity, head: Hash, offered?: Entry): Promise<void>;
  /** The get_heads exchange, for peers that keep no notes and for identities new to our list. */
  syncHeads(identities: readonly Identity[]): Promise<void>;
  /** The peer told us it holds this head. */
  theyHave(identity: Identity, head: Hash): void;
  strike(reason: string): void;
  log?: (line: string) => void;
  timeoutMs: number;
}

type Asked = 'done' | 'unknown' | 'refused' | 'plain' | 'failed';

const REFUSED = { type: 'error', code: 'forbidden', message: 'notes are kept only with peers this one follows: use get_heads' } as const;

export class LinkNotes {
  #note: PeerNote;
  #loaded: Promise<void>;
  /** Ours as the peer holds it in this session (null: not registered). */
  #registered: Identity[] | null = null;
  #asks = new Map<string, (msg: WireMessage | null) => void>();
  #next = 0;
  /** Commits of the peer's log position, in the order its frames arrived. */
  #commits: Promise<void> = Promise.resolve();
  /** Theirs as a set, and its digest. */
  #theirs = new Set<Identity>();
  #theirDigest: Hash = interestDigest([]);
  /** The peer asked get_changes: head changes go to it as `changes`, in order, after the answer. */
  #pushing = false;
  #sends: Promise<void> = Promise.resolve();
  /** The log position through which every change has been answered or pushed (-1 until the answer). */
  #low = -1;
  #handled = new Set<number>();

  constructor(private readonly link: NotesLink) {
    this.#note = { peer: link.peer, at: 0, theirs: [], ours: null, epoch: null, seq: 0, plain: false };
    this.#loaded = (async () => {
      const kept = this.#keeps() ? await link.replica.store.getNote(link.peer) : undefined;
      if (!kept) return;
      this.#note = kept;
      this.#theirs = new Set(kept.theirs);
      this.#theirDigest = interestDigest(this.#theirs);
    })();
  }

  #keeps(): boolean {
    return this.link.replica.isWatched(this.link.peer);
  }

  async #save(change: Partial<PeerNote>): Promise<void> {
    this.#note = { ...this.#note, ...change, at: Date.now() };
    if (this.#keeps()) await this.link.replica.store.putNote(this.#note);
  }

  // --- asking: bring us up to date with the peer -------------------------

  /** The first sync of a connection: changes since the position we hold, or the full exchange the first time. */
  async reconcile(): Promise<void> {
    await this.#loaded;
    const { replica } = this.link;
    if (this.#note.plain) return this.link.syncHeads(replica.watched());
    const list = replica.watched().sort();
    const digest = interestDigest(list);
    const held = this.#note.ours;
    let newly: Identity[] = [];
    if (held) {
      const [had, now] = [new Set(held), new Set(list)];
      newly = list.filter((i) => !had.has(i));
      if (interestDigest(held) !== digest)
        this.#register(
          held,
          newly,
          held.filter((i) => !now.has(i)),
        );
      else this.#registered = [...held];
    } else {
      this.#register(null, list, []);
      this.#note = { ...this.#note, epoch: null, seq: 0 };
    }
    let answer = await this.#ask(digest);
    if (answer === 'unknown') {
      // The peer no longer holds our list: send it whole; its log position still counts for what it held.
      this.#register(null, list, []);
      answer = await this.#ask(digest);
    }
    if (answer === 'plain') {
      await this.#save({ plain: true });
      return this.link.syncHeads(list);
    }
    // Not kept with us (the peer does not follow us), or no answer in time: the full exchange, this time.
    if ((answer === 'refused' || answer === 'failed') && !this.link.channel.closed) return this.link.syncHeads(list);
    if (answer === 'done' && newly.length > 0) await this.link.syncHeads(newly);
  }

  /** Identities newly watched while linked: the peer adds them to our list. */
  watchMore(identities: readonly Identity[]): void {
    const held = this.#registered;
    if (!held) return;
    const had = new Set(held);
    const add = identities.filter((i) => !had.has(i));
    if (add.length > 0) this.#register(held, add, []);
  }

  /** Send `interests` frames turning `base` (null: nothing) into base + add − remove. */
  #register(base: readonly Identity[] | null, add: readonly Identity[], remove: readonly Identity[]): void {
    const list = new Set(base ?? []);
    let from: Hash | null = base ? interestDigest(list) : null;
    const chunk = LIMITS.listItems;
    for (let i = 0; i === 0 || i < Math.max(add.length, remove.length); i += chunk) {
      const adding = add.slice(i, i + chunk);
      const removing = remove.slice(i, i + chunk);
      for (const r of removing) list.delete(r);
      for (const a of adding) list.add(a);
      const digest = interestDigest(list);
      this.link.request({ type: 'interests', base: from, digest, add: adding, remove: removing }).catch(() => undefined);
      from = digest;
    }
    this.#registered = [...list].sort();
    void this.#save({ ours: this.#registered });
  }

  #ask(digest: Hash): Promise<Asked> {
    return new Promise((resolve) => {
      const id = `n${++this.#next}`;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => answer(null), this.link.timeoutMs);
      };
      const answer = (msg: WireMessage | null) => {
        if (!msg || msg.type === 'error') {
          clearTimeout(timer);
          this.#asks.delete(id);
          if (!msg) return resolve('failed');
          return resolve(msg.code === 'not_found' ? 'unknown' : msg.code === 'forbidden' ? 'refused' : 'plain');
        }
        if (msg.type !== 'changes') return;
        const last = msg.more !== true;
        if (last) {
          clearTimeout(timer);
          this.#asks.delete(id);
        } else arm();
        this.#take(msg, last).then(() => last && resolve(this.link.channel.closed ? 'failed' : 'done'));
      };
      this.#asks.set(id, answer);
      arm();
      this.link.send({ type: 'get_changes', id, digest, epoch: this.#note.epoch, seq: this.#note.seq });
    });
  }

  /** Whether a message answers our get_changes. */
  answers(msg: WireMessage): boolean {
    return msg.re !== undefined && this.#asks.has(msg.re) && (msg.type === 'changes' || msg.type === 'error');
  }

  receive(msg: WireMessage): void {
    this.#asks.get(msg.re as string)?.(msg);
  }

  /** A `changes` pushed as heads moved (no `re`). */
  pushed(msg: WireOf<'changes'>): void {
    void this.#take(msg, true);
  }

  /** Pull what a `changes` frame lists (with the entries it carries); then, in arrival order, hold its log position. */
  #take(msg: WireOf<'changes'>, commit: boolean): Promise<void> {
    const work = this.#bringIn(msg);
    const settled = Promise.all([this.#commits, work]).then(async () => {
      if (!commit || this.link.channel.closed) return;
      const seq = msg.epoch === this.#note.epoch ? Math.max(this.#note.seq, msg.seq) : msg.seq;
      await this.#save({ epoch: msg.epoch, seq, plain: false });
    });
    this.#commits = settled.catch(() => undefined);
    return this.#commits;
  }

  async #bringIn(msg: WireOf<'changes'>): Promise<void> {
    const { replica } = this.link;
    const offered = new Map<Hash, Entry>();
    if (msg.entries.length > 0) {
      for (const r of await validator().open(msg.entries)) {
        if (r.ok) offered.set(r.value.hash, r.value);
        else this.link.strike(`changes carried an invalid entry: ${r.error.message}`);
      }
    }
    const pulls: Promise<void>[] = [];
    for (const [identity, head] of msg.heads) {
      if (!replica.isWatched(identity)) continue;
      this.link.theyHave(identity, head);
      const entry = offered.get(head);
      pulls.push(this.link.pull(identity, head, entry?.body.identity === identity ? entry : undefined));
    }
    await Promise.all(pulls);
  }

  // --- answering: keep the peer up to date --------------------------------

  async onInterests(msg: WireOf<'interests'>): Promise<void> {
    await this.#loaded;
    const reply = (r: WireMessage): void => {
      if (msg.id !== undefined) this.link.send({ ...r, re: msg.id } as WireMessage);
    };
    if (!this.#keeps()) return reply(REFUSED);
    if (msg.base === null) this.#theirs = new Set();
    else if (msg.base !== this.#theirDigest)
      return reply({ type: 'error', code: 'not_found', message: 'not the interest list held here: send it whole' });
    for (const r of msg.remove) this.#theirs.delete(r);
    for (const a of msg.add) this.#theirs.add(a);
    const digest = interestDigest(this.#theirs);
    const bad =
      this.#theirs.size > LIMITS.interestItems
        ? `more than ${LIMITS.interestItems} identities`
        : digest !== msg.digest
          ? 'the digest does not match the list'
          : null;
    if (bad) {
      this.#theirs = new Set();
      this.#theirDigest = interestDigest([]);
      return reply({ type: 'error', code: bad.startsWith('more') ? 'too_big' : 'not_found', message: `interest list refused: ${bad}` });
    }
    this.#theirDigest = digest;
    for (const a of msg.add) this.link.interests.add(a);
    await this.#save({ theirs: [...this.#theirs] });
    reply({ type: 'ok' });
  }

  async onGetChanges(msg: WireOf<'get_changes'>): Promise<void> {
    await this.#loaded;
    if (!this.#keeps()) return this.link.send({ ...REFUSED, re: msg.id });
    if (msg.digest !== this.#theirDigest) {
      return this.link.send({
        type: 'error',
        re: msg.id,
        code: 'not_found',
        message: 'no interest list with that digest is held here: register it',
      });
    }
    const { replica } = this.link;
    for (const i of this.#theirs) this.link.interests.add(i);
    this.#pushing = true;
    this.#sends = this.#sends.then(async () => {
      const epoch = await epochOf(replica.store);
      const incremental = msg.epoch === epoch;
      const log = await replica.store.headLog(incremental ? msg.seq : Number.MAX_SAFE_INTEGER);
      const shown = (h: StoredHead | undefined): h is StoredHead => !!h && this.#theirs.has(h.identity) && !replica.isBlocked(h.identity);
      const blocked = replica.isBlocked(this.link.peer);
      const heads = blocked
        ? []
        : incremental
          ? log.heads.filter(shown)
          : (await Promise.all([...this.#theirs].map((i) => replica.head(i)))).filter(shown);
      this.#advance(log.seq);
      // Incremental answers carry the new head entries: most often they are all the peer lacks.
      const texts = incremental ? await Promise.all(heads.slice(0, LIMITS.feedBatch).map((h) => replica.store.getEntry(h.hash))) : [];
      for (const frame of changesFrames({ re: msg.id, epoch, seq: log.seq }, heads, texts, this.link.channel.frameBudget))
        this.link.send(frame);
    });
    await this.#sends;
  }

  /** Every head change of ours passes here. Answers whether it went to the peer as `changes` (otherwise the link may send `head`). */
  onHead(head: LoggedHead, theyHaveIt: boolean): boolean {
    if (!this.#pushing) return false;
    const push = this.link.interests.has(head.identity) && !theyHaveIt;
    this.#sends = this.#sends.then(async () => {
      this.#advance(head.seq);
      if (!push) return;
      const entry = await this.link.replica.store.getEntry(head.hash);
      const epoch = await epochOf(this.link.replica.store);
      this.link.send({ type: 'changes', epoch, seq: this.#low, heads: [[head.identity, head.hash]], entries: entry ? [entry.text] : [] });
    });
    return true;
  }

  /** Marks a log position handled and moves the low-water mark over every handled position in a row. */
  #advance(seq: number): void {
    if (this.#low < 0) {
      this.#low = seq;
      for (const s of this.#handled) if (s <= seq) this.#handled.delete(s);
      return;
    }
    if (seq > this.#low) this.#handled.add(seq);
    while (this.#handled.delete(this.#low + 1)) this.#low++;
  }

  /** The link ended. */
  end(): void {
    for (const answer of [...this.#asks.values()]) answer(null);
    this.#asks.clear();
  }
}
