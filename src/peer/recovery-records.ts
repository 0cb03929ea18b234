/**
 * What this person's own feeds say about recovery (docs/protocol.md §9.6):
 * records sealed, kind `recovery`, to the person's own readers, so every one
 * of their devices reads the same — the shares they keep for friends, the
 * log of releases, shares forgotten, and the account's own recovery set.
 * Writing one is publishing a private note on this device's feed.
 */
import {
  readRecovery,
  sealRecovery,
  synodReaders,
  type Entry,
  type Hash,
  type Identity,
  type RecoveryMessage,
  type RecoveryOf,
} from '../protocol/index.ts';
import { openingSeeds, type Keys } from './keys.ts';
import type { Publisher } from './publisher.ts';
import type { Replica } from './replica.ts';

export interface Held {
  readonly share: RecoveryOf<'recovery_share'>;
  /** When the account issued it (its drop's comparable). */
  readonly issued: number;
  /** When this person kept it. */
  readonly keptAt: number;
}

export interface Released {
  readonly record: RecoveryOf<'recovery_released'>;
  readonly at: number;
}

export interface RecoverySet {
  readonly record: RecoveryOf<'recovery_set'>;
  readonly at: number;
}

/** Entries already opened (or found not to be recovery records), by hash: feeds are read again on every look. */
const MEMO_LIMIT = 20_000;

export class RecoveryRecords {
  #memo = new Map<Hash, RecoveryMessage | null>();
  /** The last answer of all(), by the heads of the feeds it read: unchanged heads, unchanged records. */
  #last: { key: string; records: { record: RecoveryMessage; at: number }[] } | null = null;

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly publisher: Publisher,
  ) {}

  /** The readers of what this person keeps for itself: this device, its account and the account's devices. */
  ownReaders(): Identity[] {
    const { device, synodIdentity } = this.keys;
    const state = synodIdentity ? this.replica.synod(synodIdentity) : undefined;
    return [...new Set([device.identity, ...(state ? synodReaders(state) : synodIdentity ? [synodIdentity] : [])])];
  }

  /** Publish a record on this device's feed, readable by this person's devices alone. */
  async write(record: RecoveryMessage): Promise<Entry> {
    const envelope = sealRecovery(record, { author: this.keys.device.identity, readers: this.ownReaders() });
    const entry = await this.publisher.publish({ type: 'private_note', envelope });
    this.#memo.set(entry.hash, record);
    this.#last = null;
    return entry;
  }

  /** Every record on the feeds of this person (this device, its account, the account's live devices), oldest first. */
  async all(): Promise<{ record: RecoveryMessage; at: number }[]> {
    const { device, synodIdentity } = this.keys;
    const state = synodIdentity ? this.replica.synod(synodIdentity) : undefined;
    const feeds = new Set<Identity>([device.identity]);
    if (synodIdentity) feeds.add(synodIdentity);
    for (const d of state?.devices.values() ?? []) feeds.add(d.device);
    const heads = await Promise.all([...feeds].map(async (f) => (await this.replica.head(f))?.hash ?? '-'));
    const key = `${[...feeds].join(' ')}|${heads.join(' ')}|${this.keys.synod ? 'k' : ''}`;
    if (this.#last?.key === key) return this.#last.records;
    const seeds = openingSeeds(this.keys);
    const out: { record: RecoveryMessage; at: number }[] = [];
    for (const feed of feeds) {
      for (const entry of await this.replica.feed(feed, 5000)) {
        if (entry.body.payload.type !== 'private_note') continue;
        let record = this.#memo.get(entry.hash);
        if (record === undefined) {
          record = readRecovery(entry, seeds);
          if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
          this.#memo.set(entry.hash, record);
        }
        if (record) out.push({ record, at: entry.body.comparable });
      }
    }
    out.sort((a, b) => a.at - b.at);
    this.#last = { key, records: out };
    return out;
  }

  /** Shares held for friends: per account the newest issued, unless forgotten. */
  async held(): Promise<Held[]> {
    const byAccount = new Map<Identity, Held>();
    const forgotten = new Set<string>();
    for (const { record, at } of await this.all()) {
      if (record.type === 'recovery_forgotten') forgotten.add(`${record.account} ${record.set}`);
      if (record.type !== 'recovery_kept') continue;
      const current = byAccount.get(record.share.account);
      if (!current || record.issued > current.issued)
        byAccount.set(record.share.account, { share: record.share, issued: record.issued, keptAt: at });
    }
    return [...byAccount.values()].filter((h) => !forgotten.has(`${h.share.account} ${h.share.set}`));
  }

  /** Whether a share delivered by this drop is kept already. */
  async keeps(drop: Hash): Promise<boolean> {
    return (await this.all()).some(({ record }) => record.type === 'recovery_kept' && record.entry === drop);
  }

  /** The releases this person made, newest first: the log. */
  async released(): Promise<Released[]> {
    return (await this.all())
      .filter((r): r is { record: RecoveryOf<'recovery_released'>; at: number } => r.record.type === 'recovery_released')
      .reverse();
  }

  /** The account's current recovery set: the newest one written. */
  async currentSet(): Promise<RecoverySet | null> {
    const sets = (await this.all()).filter((r): r is RecoverySet => r.record.type === 'recovery_set');
    return sets.at(-1) ?? null;
  }
}
