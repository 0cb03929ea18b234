/**
 * What rebase entries (§8.4) say, kept per feed as they arrive: which old
 * names became which new ones, so a comment or tag pointing at a rewritten
 * post still finds it, and when and how much each rewrite changed, so a
 * profile can say "rewrote 5 posts on 3 December".
 *
 * A rename is taken only from a rebase entry signed by the identity the
 * reference names (an entry ref carries its author), so nobody can redirect
 * references to someone else's posts.
 */
import type { Entry, EntryRef, Hash, Identity } from '../protocol/index.ts';
import type { Replica } from './replica.ts';

export interface RewriteSummary {
  /** The head the rewrite replaced. */
  readonly from: Hash;
  /** The author's clock on its rebase entry (ms): when it rewrote. */
  readonly date: number;
  /** Entries re-signed (their content and time kept, their names new). */
  readonly rewritten: number;
  /** Entries deleted. */
  readonly removed: number;
}

interface Stored {
  rebases: Record<string, { date: number; rewritten: number; removed: number; seen: string[] }>;
  renames: Record<string, Hash>;
}

const key = (identity: Identity) => `rewrites/${identity}`;
const empty = (): Stored => ({ rebases: {}, renames: {} });

export class Rewrites {
  readonly #loaded = new Map<Identity, Stored>();
  /** One write at a time per identity, in arrival order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(private readonly replica: Replica) {
    replica.events.on('entry', (e) => {
      if (e.body.payload.type === 'rebase') this.#queue = this.#queue.then(() => this.#record(e)).catch(() => undefined);
    });
  }

  /** Read what is stored for these identities (at start, and before showing a profile). */
  async load(identities: readonly Identity[]): Promise<void> {
    for (const identity of identities) {
      if (this.#loaded.has(identity)) continue;
      this.#loaded.set(identity, (await this.replica.store.getSetting<Stored>(key(identity))) ?? empty());
    }
  }

  /** The current name of the entry a reference points at: itself, or what rewrites renamed it to. */
  currentName(ref: EntryRef): Hash {
    const renames = this.#loaded.get(ref.identity)?.renames;
    let at = ref.entry;
    for (let hops = 0; renames && hops < 64; hops++) {
      const next = renames[at];
      if (!next || next === at) break;
      at = next;
    }
    return at;
  }

  /** The rewrites of `identity`'s feed this peer has seen, oldest first. */
  async of(identity: Identity): Promise<RewriteSummary[]> {
    await this.#queue;
    await this.load([identity]);
    const rebases = this.#loaded.get(identity)?.rebases ?? {};
    return Object.entries(rebases)
      .map(([from, r]) => ({ from: from as Hash, date: r.date, rewritten: r.rewritten, removed: r.removed }))
      .sort((a, b) => a.date - b.date);
  }

  async #record(entry: Entry): Promise<void> {
    const p = entry.body.payload;
    if (p.type !== 'rebase') return;
    const identity = entry.body.identity;
    await this.load([identity]);
    const stored = this.#loaded.get(identity) ?? empty();
    // A long rewrite spans several rebase entries with the same `from`; a later rebase may re-sign
    // one (same payload, new name): count each part once, by the first entry of its map or removed list.
    const part = p.map[0]?.[0] ?? p.removed[0] ?? entry.hash;
    const group = stored.rebases[p.from] ?? { date: 0, rewritten: 0, removed: 0, seen: [] };
    if (!group.seen.includes(part)) {
      group.seen.push(part);
      group.rewritten += p.map.length;
      group.removed += p.removed.length;
    }
    group.date = Math.max(group.date, entry.body.comparable);
    stored.rebases[p.from] = group;
    for (const [old, renamed] of p.map) stored.renames[old] = renamed;
    this.#loaded.set(identity, stored);
    await this.replica.store.putSetting(key(identity), stored);
  }
}
