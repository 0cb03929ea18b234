/**
 * A private feed, like a protected account (docs/protocol.md §10.6, after
 * Textile's feed-read keys). While it is on, this device seals its content
 * payloads (notes, photos, albums, comments, tags) with the account's newest
 * feed-read key; followers the person approves get the keys in `feed_key`
 * envelopes, sealed to their readers and to the account's own; removing a
 * follower draws a new key for the others. Any peer replicates and checks
 * the sealed entries; only key holders read them.
 *
 * Keys are learnt from every `feed_key` entry that reaches the replica and
 * opens with one of our seeds, and kept as secrets; the account's own newest
 * key (by the comparable of the entry that gave it) is the one to seal with,
 * so the account's devices converge on it. Who is approved is this device's
 * setting.
 */
import {
  feedKeyId,
  newFeedKey,
  openFeedKeys,
  openSealed,
  sealFeedKeys,
  sealPayload,
  SEALABLE_TYPES,
  type Entry,
  type Identity,
  type Payload,
  type PayloadOf,
} from '../protocol/index.ts';
import { openingSeeds, type Keys } from './keys.ts';
import type { PrivateNotes } from './private-notes.ts';
import type { Publisher } from './publisher.ts';
import type { Replica } from './replica.ts';

const SETTING = 'private-feed';
const KEYS_SETTING = 'feed-keys';
const secretName = (id: string) => `feed-key:${id}`;
/** Readers per feed_key envelope (§10.2 allows 64). */
const READERS = 64;

interface Settings {
  on: boolean;
  followers: Identity[];
}

/** A key this peer holds: which identity's feed gave it, and when (that entry's comparable). */
interface KeyRecord {
  id: string;
  author: Identity;
  at: number;
}

/** An entry as a reader sees it: a sealed one this peer opened carries its inner payload. */
export type ReadableEntry = Entry & { readonly sealed?: 'open' | 'closed' };

export class PrivateFeed {
  #settings: Settings = { on: false, followers: [] };
  #records: KeyRecord[] = [];
  readonly #keys = new Map<string, Uint8Array>();
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly publisher: Publisher,
    private readonly notes: PrivateNotes,
  ) {
    replica.events.on('entry', (e) => {
      if (e.body.payload.type === 'feed_key') this.#queue = this.#queue.then(() => this.#learn(e)).catch(() => undefined);
    });
  }

  async load(): Promise<void> {
    const store = this.replica.store;
    this.#settings = (await store.getSetting<Settings>(SETTING)) ?? { on: false, followers: [] };
    this.#records = (await store.getSetting<KeyRecord[]>(KEYS_SETTING)) ?? [];
    for (const r of this.#records) {
      const key = await store.getSecret(secretName(r.id));
      if (key) this.#keys.set(r.id, key);
    }
  }

  get isPrivate(): boolean {
    return this.#settings.on;
  }

  followers(): Identity[] {
    return [...this.#settings.followers];
  }

  /** Make new posts private (a key is drawn and given to the approved followers) or public again. */
  async setPrivate(on: boolean): Promise<void> {
    await this.#queue;
    if (on && !this.#ownNewest()) await this.#rotate();
    await this.#save({ ...this.#settings, on });
  }

  /** Let `identity` (a person or a device) read the private posts, past ones too. */
  async approve(identity: Identity): Promise<void> {
    await this.#queue;
    if (this.#settings.followers.includes(identity)) return;
    await this.#save({ ...this.#settings, followers: [...this.#settings.followers, identity] });
    if (!this.#ownNewest()) await this.#rotate();
    else await this.#give([identity]);
  }

  /** Stop `identity` reading new private posts: the others get a new key (what it read stays read). */
  async remove(identity: Identity): Promise<void> {
    await this.#queue;
    if (!this.#settings.followers.includes(identity)) return;
    await this.#save({ ...this.#settings, followers: this.#settings.followers.filter((f) => f !== identity) });
    await this.#rotate();
  }

  /** The payload to publish: sealed with the newest key when the feed is private and the type is content. */
  async wrap(payload: Payload): Promise<Payload> {
    await this.#queue;
    const newest = this.#ownNewest();
    if (!this.#settings.on || !newest || !SEALABLE_TYPES.includes(payload.type)) return payload;
    return sealPayload(payload, { author: this.keys.device.identity, key: newest });
  }

  /** The entry as a reader sees it: a sealed payload opened when we hold its key, marked closed when not. */
  view(entry: Entry): ReadableEntry {
    const p = entry.body.payload;
    if (p.type !== 'sealed') return entry;
    const key = this.#keys.get(p.key);
    const opened = key ? openSealed(p, key, entry.body.identity) : null;
    if (!opened?.ok) return { ...entry, sealed: 'closed' };
    return { ...entry, body: { ...entry.body, payload: opened.value }, sealed: 'open' };
  }

  /** Wait until feed_key entries that arrived so far are read. */
  settled(): Promise<void> {
    return this.#queue;
  }

  /** Our account's identities: this device, its synod and the synod's devices. */
  #own(): Set<Identity> {
    const { device, synodIdentity } = this.keys;
    const out = new Set<Identity>([device.identity]);
    if (synodIdentity) {
      out.add(synodIdentity);
      for (const d of this.replica.synod(synodIdentity)?.devices.keys() ?? []) out.add(d);
    }
    return out;
  }

  /** The newest key our account gave, by the comparable of the entry that gave it. */
  #ownNewest(): Uint8Array | undefined {
    const own = this.#own();
    const newest = this.#records.filter((r) => own.has(r.author)).sort((a, b) => b.at - a.at)[0];
    return newest ? this.#keys.get(newest.id) : undefined;
  }

  /** Every key our account gave, oldest first (at most 64: what one envelope carries). */
  #ownKeys(): Uint8Array[] {
    const own = this.#own();
    return this.#records
      .filter((r) => own.has(r.author))
      .sort((a, b) => a.at - b.at)
      .slice(-64)
      .flatMap((r) => this.#keys.get(r.id) ?? []);
  }

  async #learn(entry: Entry): Promise<void> {
    const p = entry.body.payload as PayloadOf<'feed_key'>;
    for (const seed of openingSeeds(this.keys)) {
      const opened = openFeedKeys(p, seed, entry.body.identity);
      if (!opened.ok) continue;
      for (const key of opened.value) await this.#keep(key, entry.body.identity, entry.body.comparable);
      return;
    }
  }

  async #keep(key: Uint8Array, author: Identity, at: number): Promise<void> {
    const id = feedKeyId(key);
    const known = this.#records.find((r) => r.id === id);
    // A key first given earlier keeps its first time: a re-sent old key must not become "newest".
    if (known && known.at <= at) return;
    this.#keys.set(id, key);
    await this.replica.store.putSecret(secretName(id), key);
    this.#records = [...this.#records.filter((r) => r.id !== id), { id, author, at }];
    await this.replica.store.putSetting(KEYS_SETTING, this.#records);
  }

  /** Draw a new key and give it (with the older ones) to every approved follower and our own devices. */
  async #rotate(): Promise<void> {
    const key = newFeedKey();
    const entries = await this.#give(this.#settings.followers, [...this.#ownKeys(), key]);
    // Our own feed_key entries reach #learn through the replica; keep the key at once too, so a post right after is sealed with it.
    await this.#keep(key, this.keys.device.identity, entries.at(-1)?.body.comparable ?? Date.now());
  }

  /** Publish feed_key entries giving `keys` to `followers`' readers and our own, 64 readers per envelope. */
  async #give(followers: readonly Identity[], keys: Uint8Array[] = this.#ownKeys()): Promise<Entry[]> {
    const own = await this.notes.ownReaders();
    const room = Math.max(1, READERS - own.length);
    const groups: Identity[][] = [[]];
    for (const follower of followers) {
      const readers = (await this.notes.readersFor(follower)).filter((r) => !own.includes(r));
      const last = groups[groups.length - 1]!;
      if (last.length > 0 && last.length + readers.length > room) groups.push([]);
      groups[groups.length - 1]!.push(...readers.slice(0, room));
    }
    const out: Entry[] = [];
    for (const group of groups) {
      const payload = sealFeedKeys(keys.slice(-64), { author: this.keys.device.identity, readers: [...own, ...group] });
      out.push(await this.publisher.publish(payload));
    }
    return out;
  }

  async #save(settings: Settings): Promise<void> {
    this.#settings = settings;
    await this.replica.store.putSetting(SETTING, settings);
  }
}
