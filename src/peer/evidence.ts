/**
 * Rewrites leave evidence (docs/peer.md, docs/protocol.md §8.5). When a feed's
 * head is superseded by one that does not descend from it, or a branch loses
 * to the head, this peer keeps the superseded head — the signed entry — and
 * says what happened:
 *
 * - `rewrite`: the winning chain's rebase entries name every entry of the
 *   losing branch (in `map`, `removed` or as `from`): a deletion by rebase,
 *   said openly;
 * - `equivocation`: the two branches start with different entries with the
 *   same parent and the same comparable, and no rebase explains them;
 * - `fork`: any other unexplained branch (two writers with one key, or a
 *   rewrite without a rebase entry).
 *
 * Head selection still picks a head (§8.2); this only makes sure a silent
 * change of the past is recorded and shown, never just resolved.
 */
import type { Entry, Hash, Identity } from '../protocol/index.ts';
import type { Replica } from './replica.ts';

export type EvidenceKind = 'rewrite' | 'equivocation' | 'fork';

export interface Evidence {
  readonly kind: EvidenceKind;
  readonly identity: Identity;
  /** The superseded head (or losing branch head): its signed entry, kept as proof. */
  readonly old: { readonly hash: Hash; readonly comparable: number; readonly text: string };
  /** The head that won. */
  readonly winner: { readonly hash: Hash; readonly comparable: number };
  /** For an equivocation: the two entries with the same parent and comparable. */
  readonly pair?: readonly [Hash, Hash];
  /** Entries of the losing branch. */
  readonly branch: number;
  /** When this peer saw it (its clock, ms). */
  readonly seenAt: number;
}

/** Records kept per identity: a feed rewritten more often than this keeps the newest. */
const PER_IDENTITY = 200;
/** Entries walked to find where two branches part; further back the fork is recorded as such. */
const WALK_LIMIT = 20_000;
const key = (identity: Identity) => `evidence/${identity}`;

export class EvidenceLog {
  /** Pairs already looked at this session: a lagging peer repeats an old head many times. */
  #seen = new Set<string>();

  /** Writes of the log, one at a time. */
  #queue: Promise<void> = Promise.resolve();

  constructor(private readonly replica: Replica) {
    const run = (job: () => Promise<void>) => (this.#queue = this.#queue.then(job).catch(() => undefined));
    replica.events.on('fork', (f) => run(() => this.#consider(f.identity, f.winner, f.loser)));
    replica.events.on('entry', (e) => {
      if (e.body.payload.type === 'rebase') run(() => this.#explained(e));
    });
  }

  /** What this peer recorded for `identity`, oldest first. */
  async of(identity: Identity): Promise<Evidence[]> {
    await this.#queue;
    return this.#read(identity);
  }

  async #read(identity: Identity): Promise<Evidence[]> {
    return (await this.replica.store.getSetting<Evidence[]>(key(identity))) ?? [];
  }

  /**
   * A rebase entry that names a head we recorded as an unexplained branch
   * explains it after all (the branch was seen before the rebase entry that
   * accounts for it, e.g. a re-signed entry that tied with the old head).
   */
  async #explained(entry: Entry): Promise<void> {
    const p = entry.body.payload;
    if (p.type !== 'rebase') return;
    // Old names, removed ones, and the new names too: a re-signed entry seen before its rebase entry lost or won a tie.
    const named = new Set<Hash>([p.from, ...p.map.flat(), ...p.removed]);
    const list = await this.#read(entry.body.identity);
    if (!list.some((e) => e.kind !== 'rewrite' && named.has(e.old.hash))) return;
    const updated = list.map((e) => (e.kind !== 'rewrite' && named.has(e.old.hash) ? { ...e, kind: 'rewrite' as const } : e));
    await this.replica.store.putSetting(key(entry.body.identity), updated);
  }

  async #consider(identity: Identity, winnerHash: Hash, loserHash: Hash): Promise<void> {
    const pair = `${winnerHash} ${loserHash}`;
    if (this.#seen.has(pair)) return;
    this.#seen.add(pair);
    const store = this.replica.store;
    const [winner, loser] = [await store.getEntry(winnerHash), await store.getEntry(loserHash)];
    if (!winner || !loser) return;
    const found = await this.#classify(winner, loser);
    if (!found) return;
    const list = await this.#read(identity);
    if (list.some((e) => e.old.hash === loser.hash && e.winner.hash === winner.hash)) return;
    const record: Evidence = {
      ...found,
      identity,
      old: { hash: loser.hash, comparable: loser.body.comparable, text: loser.text },
      winner: { hash: winner.hash, comparable: winner.body.comparable },
      seenAt: Date.now(),
    };
    await store.putSetting(key(identity), [...list, record].slice(-PER_IDENTITY));
  }

  /** Walks both branches down to where they part; null when the loser is simply an ancestor of the winner. */
  async #classify(winner: Entry, loser: Entry): Promise<Pick<Evidence, 'kind' | 'pair' | 'branch'> | null> {
    const store = this.replica.store;
    const winning: Entry[] = [];
    const losing: Entry[] = [];
    let a: Entry | undefined = winner;
    let b: Entry | undefined = loser;
    for (let steps = 0; a && b && a.hash !== b.hash && steps < WALK_LIMIT; steps++) {
      const stepA: boolean = a.body.comparable >= b.body.comparable;
      const stepB: boolean = b.body.comparable >= a.body.comparable;
      if (stepA) {
        winning.push(a);
        a = a.body.parent ? await store.getEntry(a.body.parent) : undefined;
      }
      if (stepB) {
        losing.push(b);
        b = b.body.parent ? await store.getEntry(b.body.parent) : undefined;
      }
    }
    if (a && b && a.hash === b.hash && losing.length === 0) return null; // a step forward, not a fork
    // Everything the winning chain's rebase entries account for.
    const named = new Set<Hash>();
    for (const e of winning) {
      const p = e.body.payload;
      if (p.type !== 'rebase') continue;
      named.add(p.from);
      for (const [old] of p.map) named.add(old);
      for (const removed of p.removed) named.add(removed);
    }
    if (losing.every((e) => named.has(e.hash))) return { kind: 'rewrite', branch: losing.length };
    const [first, rival] = [losing.at(-1), winning.at(-1)];
    if (first && rival && first.body.parent === rival.body.parent && first.body.comparable === rival.body.comparable)
      return { kind: 'equivocation', pair: [rival.hash, first.hash], branch: losing.length };
    return { kind: 'fork', branch: losing.length };
  }
}
