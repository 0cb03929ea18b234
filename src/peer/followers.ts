/**
 * Who follows us, as the feeds we hold say: for each feed, whether the
 * latest `follow` or `block` of this device or its synod along its head
 * chain is a follow. Almost no feed ever names us, so the index first
 * remembers which feeds hold any such entry at all (seen as entries arrive,
 * or by one scan of what was stored before); only those are walked, from
 * the moved head down to the head read before (the whole chain after a
 * rebase). Saved in the store, so a restart reads nothing again.
 */
import type { Entry, Hash, Identity, Payload } from '../protocol/index.ts';
import type { Replica } from './replica.ts';
import type { StoredHead } from './store.ts';

const SETTING = 'followers-index';
const SAVE_DELAY_MS = 1000;

interface Saved {
  /** The identities "us" meant when this was written: a new synod means reading again. */
  me: Identity[];
  /** Feeds whose stored entries were all looked at (scanned, or arrived since). */
  scanned: Identity[];
  /** Of those, the feeds holding a follow or block of us somewhere. */
  naming: Identity[];
  feeds: [Identity, Hash, boolean][];
}

/** What a payload says about following `me`: true (follows), false (blocks), null (neither). */
function stance(payload: Payload, me: readonly Identity[]): boolean | null {
  if (payload.type === 'follow' && me.includes(payload.identity)) return true;
  if (payload.type === 'block' && me.includes(payload.identity)) return false;
  return null;
}

export class FollowerIndex {
  #feeds = new Map<Identity, { head: Hash; follows: boolean }>();
  #scanned = new Set<Identity>();
  #naming = new Set<Identity>();
  #me: Identity[] = [];
  #saveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly replica: Replica,
    private readonly me: () => Identity[],
  ) {
    replica.events.on('entry', (entry) => this.#entry(entry));
  }

  /** What was saved. Feeds stored before, and not read yet, wait for `catchUp`. */
  async open(): Promise<void> {
    this.#me = this.me();
    const saved = await this.replica.store.getSetting<Saved>(SETTING);
    if (!saved || saved.me.join() !== this.#me.join()) return;
    for (const [id, head, follows] of saved.feeds) this.#feeds.set(id, { head, follows });
    for (const id of saved.scanned ?? []) this.#scanned.add(id);
    for (const id of saved.naming ?? []) this.#naming.add(id);
  }

  /** Read the feeds held but not looked at yet (once per feed; in the background, it may take a while). Answers whether any follows us. */
  async catchUp(): Promise<boolean> {
    let changed = false;
    for (const head of await this.replica.store.heads()) {
      if (!this.#scanned.has(head.identity)) {
        const me = this.#me;
        const entries = await this.replica.store.entriesOf(head.identity);
        if (entries.some((e) => stance(e.body.payload, me) !== null)) this.#naming.add(head.identity);
        this.#scanned.add(head.identity);
      }
      changed = (await this.update(head)) || changed;
    }
    return changed;
  }

  /** Feeds that follow us. */
  followers(): Identity[] {
    return [...this.#feeds].filter(([, f]) => f.follows).map(([id]) => id);
  }

  follows(identity: Identity): boolean {
    return this.#feeds.get(identity)?.follows ?? false;
  }

  /** Read a moved head; true when whether it follows us changed. */
  async update(head: StoredHead): Promise<boolean> {
    this.#checkMe();
    const before = this.#feeds.get(head.identity);
    if (before?.head === head.hash) return false;
    let follows: boolean | null = null;
    if (this.#naming.has(head.identity)) {
      const me = this.#me;
      let at = await this.replica.store.getEntry(head.hash);
      while (at && follows === null) {
        if (before && at.hash === before.head) follows = before.follows;
        else follows = stance(at.body.payload, me);
        at = at.body.parent ? await this.replica.store.getEntry(at.body.parent) : undefined;
      }
    }
    const now = follows ?? false;
    this.#feeds.set(head.identity, { head: head.hash, follows: now });
    this.#save();
    return now !== (before?.follows ?? false);
  }

  #entry(entry: Entry): void {
    this.#checkMe();
    if (stance(entry.body.payload, this.#me) !== null) this.#naming.add(entry.body.identity);
    // A feed first stored now, all of it seen here: nothing to scan later.
    if (!this.#feeds.has(entry.body.identity) && entry.body.parent === null) this.#scanned.add(entry.body.identity);
  }

  /** We joined or made a synod: follows of it count from now on, so every feed is read again (catchUp). */
  #checkMe(): void {
    const me = this.me();
    if (me.join() === this.#me.join()) return;
    this.#me = me;
    this.#feeds.clear();
    this.#scanned.clear();
    this.#naming.clear();
    void this.catchUp().then(() => this.onChange());
  }

  /** Called when a background read changed who follows us. */
  onChange: () => void = () => undefined;

  #saved(): Saved {
    return {
      me: this.#me,
      scanned: [...this.#scanned],
      naming: [...this.#naming],
      feeds: [...this.#feeds].map(([id, f]) => [id, f.head, f.follows] as [Identity, Hash, boolean]),
    };
  }

  #save(): void {
    if (this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = null;
      void this.replica.store.putSetting(SETTING, this.#saved()).catch(() => undefined);
    }, SAVE_DELAY_MS);
  }

  /** Write now (closing). */
  flush(): void {
    if (!this.#saveTimer) return;
    clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    void this.replica.store.putSetting(SETTING, this.#saved()).catch(() => undefined);
  }
}
