/**
 * The dropbox, client side: reaching someone who does not follow us, and
 * receiving from strangers. A drop is a standalone signed entry (off our
 * feed: parent null) whose private_note envelope, kind "drop", is sealed to
 * the target's readers; the server stores it until the target connects.
 * Received drops go to the inbox, apart from the timeline, and are
 * acknowledged to the server only once stored here, so none is lost.
 */
import {
  createEntry,
  encodeWire,
  fromUtf8,
  open,
  openEntry,
  seal,
  utf8,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
  type WireMessage,
} from '../protocol/index.ts';
import type { Link } from './link.ts';
import type { InboxItem, Store } from './store.ts';
import { PeerError } from './errors.ts';
import { within } from './events.ts';
import { openingSeeds, type Keys } from './keys.ts';
import type { Mesh } from './mesh.ts';
import type { PrivateNotes } from './private-notes.ts';
import type { Replica } from './replica.ts';
import { trustedEntry } from './store.ts';

/** Seal `text` for the target's readers and sign it as a standalone entry. */
export async function makeDrop(keys: KeyPair, readers: readonly Identity[], text: string, now = Date.now()): Promise<Entry> {
  const { envelope } = seal(utf8(text), { author: keys.identity, kind: 'drop', readers });
  return createEntry(keys, { parent: null, comparable: now, synod: null, payload: { type: 'private_note', envelope } });
}

/** Ask in batches whose answers fit one frame. */
function batchBySize(hashes: readonly Hash[], size: (h: Hash) => number, budget = 40 * 1024): Hash[][] {
  const out: Hash[][] = [];
  let batch: Hash[] = [];
  let bytes = 0;
  for (const h of hashes) {
    if (batch.length > 0 && bytes + size(h) > budget) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(h);
    bytes += size(h) * 1.1 + 100;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** Send a drop through a room that offers the dropbox service; resolves when the server stored it. */
export async function sendDrop(link: Link, target: Identity, drop: Entry): Promise<void> {
  const reply = await link.request({ type: 'drop', target, sender: drop.body.identity, entry: drop.text });
  if (reply.type === 'error') throw new Error(`the dropbox refused: ${reply.code}: ${reply.message}`);
}

/**
 * Clear what waits for `target` (us, or our synod) at a dropbox room in one
 * call: every drop expiring by `through` (by default, every drop) is deleted
 * unread, as after a flood from strangers.
 */
export async function clearDrops(link: Link, target: Identity, through = Number.MAX_SAFE_INTEGER): Promise<void> {
  const reply = await link.request({ type: 'drop_clear', target, through });
  if (reply.type === 'error') throw new Error(`the dropbox refused to clear: ${reply.code}: ${reply.message}`);
}

/** Read a drop's text with any of our keys. */
export function readDrop(entry: Entry, seeds: readonly Uint8Array[]): string | null {
  const p = entry.body.payload;
  if (p.type !== 'private_note') return null;
  for (const seed of seeds) {
    const opened = open(p.envelope, seed, entry.body.identity, 'drop');
    if (opened.ok) return fromUtf8(opened.value.plaintext);
  }
  return null;
}

/**
 * Handle a `drops` notice: fetch what we lack, validate, keep in the inbox,
 * then acknowledge. Returns the newly kept items.
 */
export async function receiveDrops(link: Link, store: Store, server: string, notice: WireMessage): Promise<InboxItem[]> {
  if (notice.type !== 'drops' || notice.drops.length === 0) return [];
  const held = new Set((await store.inbox()).map((i) => i.hash));
  const wanted = notice.drops.filter((d) => !held.has(d.hash)).map((d) => d.hash);
  const kept: InboxItem[] = [];
  const valid = new Set<Hash>(notice.drops.filter((d) => held.has(d.hash)).map((d) => d.hash));
  const sizes = new Map(notice.drops.map((d) => [d.hash, d.size]));
  for (const batch of batchBySize(wanted, (h) => sizes.get(h) ?? 0)) {
    const reply = await link.request({ type: 'fetch_drops', hashes: batch });
    if (reply.type !== 'drop_delivery') throw new Error(`fetch_drops answered ${reply.type}`);
    for (const d of reply.drops) {
      const entry = await openEntry(d.entry, { hash: d.hash });
      if (!entry.ok) continue; // a bad drop is never acknowledged, never kept
      const item: InboxItem = {
        hash: d.hash,
        sender: entry.value.body.identity,
        target: d.target,
        entry: d.entry,
        receivedAt: Date.now(),
        server,
        acknowledged: false,
      };
      await store.putInbox(item);
      kept.push(item);
      valid.add(d.hash);
    }
  }
  if (valid.size > 0) link.channel.send(encodeWire({ type: 'drop_ack', hashes: [...valid] }));
  return kept;
}

/** A dropbox endpoint is an origin; its drops go through the room named "dropbox" there. */
export function dropboxRoom(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.pathname.startsWith('/room/')) return u.toString().replace(/^http/, 'ws');
  return `${u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss' : 'ws'}://${u.host}/room/dropbox`;
}

/** A dropbox message as the app shows it. */
export interface InboxMessage extends InboxItem {
  /** The plaintext, when one of our keys reads it. */
  readonly text: string | null;
}

/** This peer's side of the dropbox: leaving drops for others, and the inbox of drops left for us. */
export class Dropbox {
  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly mesh: Mesh,
    private readonly notes: PrivateNotes,
  ) {}

  /**
   * Reach someone who may not follow us: seal `text` to their readers (their
   * synod's, when we know it) and leave it at a dropbox room. `via` is a room
   * URL; by default the first dropbox their synod publishes. `alsoReaders`
   * adds readers we know of beyond the target's synod state (a device that
   * wrote to us from an account we do not replicate).
   */
  async send(target: Identity, text: string, via?: string, timeoutMs = 15_000, alsoReaders: readonly Identity[] = []): Promise<Entry> {
    const state = this.replica.synod(target);
    const url = via ?? (state?.dropboxes[0] ? dropboxRoom(state.dropboxes[0]) : undefined);
    if (!url) throw new PeerError('bad_input', 'no dropbox known for this identity: give a server');
    const joinedHere = !this.mesh.rooms.has(url);
    // Someone else's server: it hears nothing of whom we watch or let see us.
    const room = this.mesh.join(url, { presence: false });
    try {
      if (!room.link) await within(room.events.once('link'), timeoutMs);
      const link = room.link;
      if (!link) throw new PeerError('not_found', `the dropbox at ${url} did not answer within ${timeoutMs / 1000} s`);
      const readers = [...new Set([...(await this.notes.readersFor(target)), ...alsoReaders])];
      const drop = await makeDrop(this.keys.device, readers, text);
      await sendDrop(link, target, drop);
      return drop;
    } finally {
      if (joinedHere) this.mesh.leave(url);
    }
  }

  /** Delete, unread, what waits at a dropbox room for us (or our synod, once this device has shown it is one of its devices there). */
  async clear(url: string, target: Identity, through?: number, timeoutMs = 15_000): Promise<void> {
    const joinedHere = !this.mesh.rooms.has(url);
    const room = this.mesh.join(url);
    try {
      if (!room.link) await within(room.events.once('link'), timeoutMs);
      if (!room.link) throw new PeerError('not_found', `the dropbox at ${url} did not answer within ${timeoutMs / 1000} s`);
      await clearDrops(room.link, target, through);
    } finally {
      if (joinedHere) this.mesh.leave(url);
    }
  }

  /** Dropbox messages received, newest first, with their text where we can read it. */
  async inbox(): Promise<InboxMessage[]> {
    const items = await this.replica.store.inbox();
    return items.sort((a, b) => b.receivedAt - a.receivedAt).map((i) => this.#message(i));
  }

  async acknowledge(hash: Hash): Promise<void> {
    const item = (await this.replica.store.inbox()).find((i) => i.hash === hash);
    if (item) await this.replica.store.putInbox({ ...item, acknowledged: true });
  }

  /** A room's `drops` notice: the messages newly kept. */
  async receive(server: string, link: Link, notice: WireMessage): Promise<InboxMessage[]> {
    return (await receiveDrops(link, this.replica.store, server, notice)).map((i) => this.#message(i));
  }

  #message(item: InboxItem): InboxMessage {
    return { ...item, text: readDrop(trustedEntry(item.hash, item.entry), openingSeeds(this.keys)) };
  }
}
