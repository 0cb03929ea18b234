/**
 * Account-wide follows, blocks and mutes (docs/protocol.md §9.8). The design
 * lets follow messages be posted in device streams or the synod's stream;
 * only a device holding the synod key can append to the synod's, and paired
 * devices may not hold it. So each device posts its own follows, blocks and
 * mutes on its own feed, and every device of the account merges the words of
 * all the account's feeds — its devices' and the synod's: for each identity,
 * the newest follow, block or mute (by `comparable`, across feeds) decides.
 * The watch list follows. Mutes stay sealed to the account's readers; a
 * device that joined later reads the earlier ones with keys it was given
 * (read-keys.ts). A device restored from the words or through friends does
 * the same from its first moment.
 */
import { parseIdentity, type Hash, type Identity } from '../protocol/index.ts';
import type { Keys } from './keys.ts';
import type { PrivateNotes } from './private-notes.ts';
import type { AccountReadKeys } from './read-keys.ts';
import type { Replica } from './replica.ts';

/** How far back each feed is read for follows. */
const FEED_LIMIT = 5000;

type Word = { word: 'follow' | 'block'; at: number };

/** The identity a mute's plaintext (a block payload) names, if it is one. */
function mutedIn(text: string | null): Identity | undefined {
  try {
    const parsed = text ? (JSON.parse(text) as { type?: string; identity?: unknown }) : null;
    return parsed?.type === 'block' && typeof parsed.identity === 'string' && parseIdentity(parsed.identity).ok
      ? (parsed.identity as Identity)
      : undefined;
  } catch {
    return undefined;
  }
}

export interface AccountRelationsOptions {
  keys: Keys;
  replica: Replica;
  notes: PrivateNotes;
  readKeys?: AccountReadKeys;
  /** A block taken from another device: close what this device shares with that identity. */
  blocked?: (identity: Identity) => void;
}

export class FollowAdoption {
  /** Each feed's words as of its head (and of the given keys, which open more mutes). */
  #perFeed = new Map<Identity, { head: Hash; keys: number; words: Map<Identity, Word> }>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: AccountRelationsOptions) {
    const { replica, readKeys } = options;
    replica.events.on('head', (h) => {
      if (this.#feeds().includes(h.identity)) void this.merge().catch(() => undefined);
    });
    readKeys?.events.on('keys', () => void this.merge().catch(() => undefined));
  }

  /** After a restore: merge what is held already (heads arriving later merge again). */
  start(_synod?: Identity): Promise<void> {
    return this.merge();
  }

  /** Merge the account's words now; runs one at a time. */
  merge(): Promise<void> {
    const run = this.#queue.then(() => this.#merge());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** What the account says of each identity: follow or block, the newest word across its feeds. */
  async words(): Promise<Map<Identity, Word>> {
    const merged = new Map<Identity, Word>();
    for (const feed of this.#feeds())
      for (const [identity, w] of await this.#wordsOf(feed)) {
        const before = merged.get(identity);
        if (!before || w.at > before.at) merged.set(identity, w);
      }
    return merged;
  }

  /** The account's feeds: its synod and its active devices, this one included (its own words count like any other). */
  #feeds(): Identity[] {
    const { keys, replica } = this.options;
    const synod = keys.synodIdentity;
    if (!synod) return [];
    const devices = [...(replica.synod(synod)?.devices.values() ?? [])].filter((d) => d.cut === null).map((d) => d.device);
    return [synod, ...new Set([keys.device.identity, ...devices])];
  }

  async #merge(): Promise<void> {
    const { keys, replica } = this.options;
    const own = new Set<Identity>([keys.device.identity, ...this.#feeds()]);
    for (const [identity, { word }] of await this.words()) {
      if (own.has(identity)) continue;
      if (word === 'block') {
        if (replica.isBlocked(identity) && !replica.reasons(identity).includes('follow')) continue;
        await replica.setBlocked(identity, true);
        await replica.unwatch(identity, 'follow');
        this.options.blocked?.(identity);
      } else {
        if (replica.isBlocked(identity)) await replica.setBlocked(identity, false);
        if (!replica.reasons(identity).includes('follow')) await replica.watch(identity, 'follow');
      }
    }
  }

  async #wordsOf(feed: Identity): Promise<Map<Identity, Word>> {
    const { replica, readKeys } = this.options;
    const head: Hash | undefined = (await replica.head(feed))?.hash;
    const keys = readKeys?.size ?? 0;
    const cached = this.#perFeed.get(feed);
    if (cached && cached.head === head && cached.keys === keys) return cached.words;
    if (!head) return new Map();
    // Only what came since the head read last, when the feed grew on top of it (a rebase reads it all again).
    const since = cached && cached.keys === keys ? cached.head : null;
    let entries = await replica.store.chain(head, { limit: FEED_LIMIT, identity: feed, ...(since && { stop: since }) });
    const grew = since !== null && entries.length < FEED_LIMIT && entries.at(-1)?.body.parent === since;
    if (since && !grew) entries = await replica.store.chain(head, { limit: FEED_LIMIT, identity: feed });
    const words = grew && cached ? new Map(cached.words) : new Map<Identity, Word>();
    const fresh = new Set<Identity>();
    for (const e of entries) {
      const p = e.body.payload;
      let subject: Identity | undefined;
      let word: Word['word'] | undefined;
      if (p.type === 'follow' || p.type === 'block') [subject, word] = [p.identity, p.type];
      else if (p.type === 'mute') {
        const muted = mutedIn(this.options.notes.read(e));
        if (muted) [subject, word] = [muted, 'block'];
      }
      // Newest first: the first word on an identity in this walk is its latest here.
      if (subject && word && !fresh.has(subject)) {
        fresh.add(subject);
        words.set(subject, { word, at: e.body.comparable });
      }
    }
    this.#perFeed.set(feed, { head, keys, words });
    return words;
  }
}
