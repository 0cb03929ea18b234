/**
 * Earlier private notes for a newly paired device (docs/protocol.md §9.8).
 * Envelopes sealed before a device joined the account do not name it, and a
 * paired device does not hold the synod key. The device that holds the synod
 * key can open all of them, so it gives each newer member their content-read
 * keys in `read_keys` records sealed to that member alone; the member keeps
 * the keys it is given and reads with them where its own seed finds no slot.
 * Only records signed by an active device of the same account are taken.
 */
import {
  findContentKey,
  openReadKeys,
  openWithContentKey,
  READ_KEYS_PER_RECORD,
  sealReadKeys,
  toBase64url,
  fromBase64url,
  type Entry,
  type EnvelopeKind,
  type Hash,
  type Identity,
  type ReadKey,
} from '../protocol/index.ts';
import { Emitter } from './events.ts';
import { openingSeeds, type Keys } from './keys.ts';
import type { Publisher } from './publisher.ts';
import type { Replica } from './replica.ts';

const GIVEN = 'read-keys';
const GIVEN_TO = 'read-keys-given-to';
const SCANNED = 'read-keys-scanned';
/** How far back each feed is read for envelopes to share, and for records given. */
const FEED_LIMIT = 5000;

/** The kinds an envelope of this payload type can be sealed as (read_keys records are never passed on). */
const kindsOf = (type: string): EnvelopeKind[] =>
  type === 'mute' ? ['mute'] : type === 'private_note' ? ['private_note', 'recovery'] : [];

export class AccountReadKeys {
  readonly events = new Emitter<{ keys: number }>();
  #keys = new Map<Hash, Uint8Array>();
  #seen = new Set<Hash>();
  #givenTo = new Set<Identity>();
  #scanned: Record<Identity, Hash> = {};
  #loaded: Promise<void>;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly publisher: Publisher,
  ) {
    this.#loaded = this.#load();
    replica.events.on('entry', (e) => void this.#entry(e).catch(() => undefined));
    replica.events.on('head', (h) => {
      if (h.identity === this.keys.synodIdentity) void this.refresh().catch(() => undefined);
    });
  }

  /** Keys given to this device so far (a count: tests and the app's status line). */
  get size(): number {
    return this.#keys.size;
  }

  /** The content-read key given for this entry's envelope, if any. */
  keyFor(entry: Hash): Uint8Array | undefined {
    return this.#keys.get(entry);
  }

  /** Open an envelope with a given key: the plaintext, or null. */
  open(entry: Entry, kind: EnvelopeKind): Uint8Array | null {
    const p = entry.body.payload;
    const key = this.#keys.get(entry.hash);
    if (!key || (p.type !== 'private_note' && p.type !== 'mute')) return null;
    const opened = openWithContentKey(p.envelope, key, entry.body.identity, kind);
    return opened.ok ? opened.value : null;
  }

  /** Take records already held, and (holding the synod key) give keys to members who have none yet. */
  refresh(): Promise<void> {
    const run = this.#queue.then(async () => {
      await this.#loaded;
      for (const device of this.#accountDevices()) await this.#scan(device);
      if (this.keys.synod) for (const device of this.#accountDevices()) if (!this.#givenTo.has(device)) await this.giveTo(device);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Give `device` the content-read keys of every envelope this device opens: what the account could read before it joined. */
  async giveTo(device: Identity): Promise<number> {
    const keys = await this.#openable();
    for (let i = 0; i < keys.length; i += READ_KEYS_PER_RECORD) {
      const envelope = sealReadKeys(keys.slice(i, i + READ_KEYS_PER_RECORD), { author: this.keys.device.identity, readers: [device] });
      await this.publisher.publish({ type: 'private_note', envelope });
    }
    this.#givenTo.add(device);
    await this.replica.store.putSetting(GIVEN_TO, [...this.#givenTo]);
    return keys.length;
  }

  /** Read a member's feed for records, down to where the last scan reached (kept across restarts: opening costs a key agreement each). */
  async #scan(device: Identity): Promise<void> {
    const head = (await this.replica.head(device))?.hash;
    if (!head || this.#scanned[device] === head) return;
    const stop = this.#scanned[device];
    for (const e of await this.replica.store.chain(head, { limit: FEED_LIMIT, identity: device, ...(stop && { stop }) }))
      await this.#entry(e);
    this.#scanned[device] = head;
    await this.replica.store.putSetting(SCANNED, this.#scanned);
  }

  /** Active devices of this account other than this one. */
  #accountDevices(): Identity[] {
    const synod = this.keys.synodIdentity;
    const state = synod ? this.replica.synod(synod) : undefined;
    return [...(state?.devices.values() ?? [])]
      .filter((d) => d.cut === null && d.device !== this.keys.device.identity)
      .map((d) => d.device);
  }

  async #openable(): Promise<ReadKey[]> {
    const out = new Map<Hash, Uint8Array>();
    const feeds = new Set<Identity>([this.keys.device.identity, ...this.replica.watched()]);
    for (const identity of feeds)
      for (const e of await this.replica.feed(identity, FEED_LIMIT)) {
        const p = e.body.payload;
        if ((p.type !== 'private_note' && p.type !== 'mute') || out.has(e.hash)) continue;
        for (const seed of openingSeeds(this.keys)) {
          const key = findContentKey(p.envelope, seed);
          if (!key.ok) continue;
          if (kindsOf(p.type).some((kind) => openWithContentKey(p.envelope, key.value, e.body.identity, kind).ok))
            out.set(e.hash, key.value);
          break;
        }
      }
    return [...out].map(([entry, key]) => ({ entry, key }));
  }

  async #entry(e: Entry): Promise<void> {
    const p = e.body.payload;
    if (p.type !== 'private_note' || this.#seen.has(e.hash) || e.body.identity === this.keys.device.identity) return;
    if (!this.#accountDevices().includes(e.body.identity)) return;
    this.#seen.add(e.hash);
    const opened = openReadKeys(p.envelope, this.keys.device.seed, e.body.identity);
    if (!opened.ok) return;
    await this.#loaded;
    let added = 0;
    for (const k of opened.value)
      if (!this.#keys.has(k.entry)) {
        this.#keys.set(k.entry, k.key);
        added++;
      }
    if (!added) return;
    const stored: Record<string, string> = {};
    for (const [hash, key] of this.#keys) stored[hash] = toBase64url(key);
    await this.replica.store.putSetting(GIVEN, stored);
    this.events.emit('keys', added);
  }

  async #load(): Promise<void> {
    const stored = (await this.replica.store.getSetting<Record<string, string>>(GIVEN)) ?? {};
    for (const [hash, text] of Object.entries(stored)) {
      const key = fromBase64url(text, 32);
      if (key.ok && !this.#keys.has(hash as Hash)) this.#keys.set(hash as Hash, key.value);
    }
    for (const d of (await this.replica.store.getSetting<Identity[]>(GIVEN_TO)) ?? []) this.#givenTo.add(d);
    this.#scanned = (await this.replica.store.getSetting<Record<Identity, Hash>>(SCANNED)) ?? {};
  }
}
