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
