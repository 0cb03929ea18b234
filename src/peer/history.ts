/**
 * A feed's history as this peer saw it: the rewrites its rebase entries
 * announce (rewrites.ts) and the superseded heads and equivocations it kept
 * as evidence (evidence.ts). The engine's one door for "rewrote 5 posts on
 * 3 December" on a profile, and for finding a post a comment points at after
 * a rewrite renamed it.
 */
import type { EntryRef, Hash, Identity } from '../protocol/index.ts';
import { EvidenceLog, type Evidence } from './evidence.ts';
import type { Replica } from './replica.ts';
import { Rewrites, type RewriteSummary } from './rewrites.ts';

export type { Evidence, EvidenceKind } from './evidence.ts';
export type { RewriteSummary } from './rewrites.ts';

export interface FeedHistory {
  /** Rewrites the feed announced (rebase entries), oldest first; `seen` when this peer held the head it replaced. */
  readonly rewrites: readonly (RewriteSummary & { readonly seen: boolean })[];
  /** Branches no rebase explains: equivocations and other forks, oldest first. */
  readonly conflicts: readonly Evidence[];
}

export class History {
  readonly #evidence: EvidenceLog;
  readonly #rewrites: Rewrites;

  constructor(replica: Replica) {
    this.#evidence = new EvidenceLog(replica);
    this.#rewrites = new Rewrites(replica);
  }

  /** Read what is stored for these identities, so currentName answers for them at once. */
  load = (identities: readonly Identity[]): Promise<void> => this.#rewrites.load(identities);

  /** The name a reference's entry has now: itself, or what rewrites renamed it to. */
  currentName = (ref: EntryRef): Hash => this.#rewrites.currentName(ref);

  async of(identity: Identity): Promise<FeedHistory> {
    const [rewrites, evidence] = [await this.#rewrites.of(identity), await this.#evidence.of(identity)];
    const seen = new Set(evidence.filter((e) => e.kind === 'rewrite').map((e) => e.old.hash));
    return {
      rewrites: rewrites.map((r) => ({ ...r, seen: seen.has(r.from) })),
      conflicts: evidence.filter((e) => e.kind !== 'rewrite'),
    };
  }
}
