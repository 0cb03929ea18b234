/**
 * Who follows us, as the feeds we hold say: for each feed, whether the
 * latest `follow` or `block` of this device or its synod along its head
 * chain is a follow. Kept per feed with the head it was read at, so a moved
 * head costs a walk down to the head read before (the whole chain only
 * after a rebase), and saved in the store so a restart walks nothing.
 */
import type { Hash, Identity, Payload } from '../protocol/index.ts';
import type { Replica } from './replica.ts';
import type { StoredHead } from './store.ts';

const SETTING = 'followers-index';
const SAVE_DELAY_MS = 1000;

interface Saved {
  /** The identities "us" meant when this was written: a new synod means reading again. */
  me: Identity[];
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
  #me: Identity[] = [];
  #saveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly replica: Replica,
    private readonly me: () => Identity[],
  ) {}

  /** Load what was saved, then read every held feed whose head moved since. */
  async open(): Promise<void> {
    this.#me = this.me();
    const saved = await this.replica.store.getSetting<Saved>(SETTING);
    if (saved && saved.me.join() === this.#me.join()) for (const [id, head, follows] of saved.feeds) this.#feeds.set(id, { head, follows });
    for (const head of await this.replica.store.heads()) await this.update(head);
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
    const me = this.me();
    if (me.join() !== this.#me.join()) {
      // We joined or made a synod: follows of it count from now on, so every feed is read again.
      this.#me = me;
      this.#feeds.clear();
      for (const h of await this.replica.store.heads()) if (h.identity !== head.identity) await this.update(h);
    }
    const before = this.#feeds.get(head.identity);
    if (before?.head === head.hash) return false;
    let follows: boolean | null = null;
    let at = await this.replica.store.getEntry(head.hash);
    while (at && follows === null) {
      if (before && at.hash === before.head) follows = before.follows;
      else follows = stance(at.body.payload, me);
      at = at.body.parent ? await this.replica.store.getEntry(at.body.parent) : undefined;
    }
    const now = follows ?? false;
    this.#feeds.set(head.identity, { head: head.hash, follows: now });
    this.#save();
    return now !== (before?.follows ?? false);
  }

  #save(): void {
    if (this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = null;
      const feeds = [...this.#feeds].map(([id, f]) => [id, f.head, f.follows] as [Identity, Hash, boolean]);
      void this.replica.store.putSetting(SETTING, { me: this.#me, feeds } satisfies Saved).catch(() => undefined);
    }, SAVE_DELAY_MS);
  }

  /** Write now (closing). */
  flush(): void {
    if (!this.#saveTimer) return;
    clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    const feeds = [...this.#feeds].map(([id, f]) => [id, f.head, f.follows] as [Identity, Hash, boolean]);
    void this.replica.store.putSetting(SETTING, { me: this.#me, feeds } satisfies Saved).catch(() => undefined);
  }
}
