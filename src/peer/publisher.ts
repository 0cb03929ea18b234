/**
 * Publishing: every entry this device writes takes one path, sign → store →
 * announce. Signed on top of the feed's head, stored through the replica
 * (which moves the head and tells the links' followers), then announced to
 * every room's head tracker. The device's own feed claims the synod at the
 * synod's current head; the synod feed is written with the synod key.
 */
import {
  createEntry,
  nextComparable,
  rebase,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
  type Payload,
} from '../protocol/index.ts';
import { PeerError } from './errors.ts';
import type { Keys } from './keys.ts';
import type { Mesh } from './mesh.ts';
import type { Replica } from './replica.ts';
import type { StoredHead } from './store.ts';

const PUBLISHED_SETTING = 'published-up-to';

export class Publisher {
  /** The last entry signed here per feed: a head that moves to it needs no second announce. */
  #lastSigned = new Map<Identity, Hash>();
  /** Per feed we sign for, the highest comparable a room has taken: entries above it are still pending. */
  #published: Record<string, number> = {};

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly mesh: Mesh,
    private readonly onPublished: (identity: Identity, comparable: number) => void = () => undefined,
  ) {}

  async loadPublished(): Promise<void> {
    this.#published = (await this.replica.store.getSetting<Record<string, number>>(PUBLISHED_SETTING)) ?? {};
  }

  /** The highest comparable of `identity`'s feed that a room has taken (0: none yet). */
  publishedUpTo(identity: Identity): number {
    return this.#published[identity] ?? 0;
  }

  /** Append to this device's feed, claiming its synod at the synod's current head. */
  async publish(payload: Payload): Promise<Entry> {
    const { device, synodIdentity } = this.keys;
    const synodHead = synodIdentity ? await this.replica.head(synodIdentity) : undefined;
    const member = synodIdentity && synodHead && this.replica.synod(synodIdentity)?.devices.has(device.identity);
    return this.#append(device, payload, member ? [synodIdentity, synodHead.hash] : null);
  }

  /** Append to the synod's feed, with the synod key. */
  async publishSynod(payload: Payload): Promise<Entry> {
    const synod = this.keys.synod;
    if (!synod) throw new PeerError('not_synod_holder', 'this device does not hold the synod key');
    return this.#append(synod, payload, null);
  }

  /** Delete entries of this device's feed by rebasing; later entries are re-signed (new hashes). */
  async rewrite(hashes: readonly Hash[]): Promise<Entry[]> {
    const { device } = this.keys;
    const rewritten = await rebase(device, await this.replica.chain(device.identity), new Set(hashes));
    for (const entry of rewritten) await this.#store(entry);
    const head = rewritten.at(-1);
    if (head) this.#announce(head);
    return rewritten;
  }

  /** Announce the heads this device signs for (a room link just came up: the room may not know them). */
  async announceHeads(): Promise<void> {
    for (const identity of [this.keys.device.identity, this.keys.synod?.identity]) {
      const head = identity ? await this.replica.head(identity) : undefined;
      const entry = head ? await this.replica.store.getEntry(head.hash) : undefined;
      if (entry) this.#announce(entry);
    }
  }

  /** A head of a feed we sign for that moved without us signing it here (another holder of the synod key wrote it): rooms hear it from us too. */
  async headMoved(head: StoredHead): Promise<void> {
    if (head.identity !== this.keys.device.identity && head.identity !== this.keys.synod?.identity) return;
    if (this.#lastSigned.get(head.identity) === head.hash) return;
    const entry = await this.replica.store.getEntry(head.hash);
    if (entry) this.#announce(entry);
  }

  async #append(keys: KeyPair, payload: Payload, synod: readonly [Identity, Hash] | null): Promise<Entry> {
    const head = await this.replica.head(keys.identity);
    const parent = head ? await this.replica.store.getEntry(head.hash) : undefined;
    const entry = await createEntry(keys, { parent: parent?.hash ?? null, comparable: nextComparable(parent ?? null), synod, payload });
    await this.#store(entry);
    this.#announce(entry);
    // Rooms take a synod's head only from a session whose own head names that synod: the
    // device's first entry to name it brings along the synod head written before it.
    if (synod && synod[0] === this.keys.synod?.identity && parent?.body.synod?.[0] !== synod[0]) {
      const synodHead = await this.replica.store.getEntry(synod[1]);
      if (synodHead) this.#announce(synodHead);
    }
    return entry;
  }

  async #store(entry: Entry): Promise<void> {
    this.#lastSigned.set(entry.body.identity, entry.hash);
    await this.replica.appendOwn(entry);
  }

  #announce(entry: Entry): void {
    for (const room of this.mesh.rooms.values()) void room.announce(entry).then((taken) => (taken ? this.#taken(entry) : undefined));
  }

  async #taken(entry: Entry): Promise<void> {
    const { identity, comparable } = entry.body;
    if ((this.#published[identity] ?? 0) >= comparable) return;
    this.#published = { ...this.#published, [identity]: comparable };
    await this.replica.store.putSetting(PUBLISHED_SETTING, this.#published);
    this.onPublished(identity, comparable);
  }
}
