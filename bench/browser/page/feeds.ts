/**
 * Feeds made in the page (real signed entries, WebCrypto signing) and
 * written into an engine store in one IndexedDB transaction. Seeding writes
 * the rows `IdbStore` reads (src/peer/idb-store.ts: entries, heads, watch);
 * the driver then checks through the engine that the store reads back.
 */
import { openDB } from 'idb';
import { IdbStore } from '../../../src/peer/idb-store.ts';
import { Peer } from '../../../src/peer/peer.ts';
import { createEntry, generateKeyPair, nextComparable, type Entry } from '../../../src/protocol/index.ts';
import type { FeedInfo } from '../api.ts';

/** Generated feeds by identity, root first. */
const feeds = new Map<string, Entry[]>();

export async function makeFeed(count: number, feedText: (i: number) => string): Promise<FeedInfo> {
  const keys = await generateKeyPair();
  const chain: Entry[] = [];
  let parent: Entry | null = null;
  for (let i = 0; i < count; i++) {
    parent = await createEntry(keys, {
      parent: parent?.hash ?? null,
      comparable: nextComparable(parent),
      synod: null,
      payload: { type: 'public_note', text: feedText(i) },
    });
    chain.push(parent);
  }
  feeds.set(keys.identity, chain);
  return { identity: keys.identity, head: chain[chain.length - 1]!.hash, count, bytes: chain.reduce((n, e) => n + e.size, 0) };
}

/** Many feeds at once: each chain is sequential, the chains sign in parallel. */
export function makeFeeds(count: number, each: number): Promise<FeedInfo[]> {
  return Promise.all(Array.from({ length: count }, (_, f) => makeFeed(each, (i) => `feed ${f}, note ${i}: ${'lorem ipsum '.repeat(8)}`)));
}

export function feedTexts(identity: string): string[] {
  return (feeds.get(identity) ?? []).map((e) => e.text);
}

export async function seedStore(db: string, identities: string[], reasons: string[]): Promise<void> {
  (await IdbStore.open(db)).store.close(); // creates the schema the engine expects
  const raw = await openDB(db);
  const tx = raw.transaction(['entries', 'heads', 'watch'], 'readwrite');
  for (const identity of identities) {
    const chain = feeds.get(identity);
    if (!chain?.length) throw new Error(`no generated feed for ${identity}`);
    for (const e of chain) void tx.objectStore('entries').put({ hash: e.hash, text: e.text, identity, comparable: e.body.comparable });
    const head = chain[chain.length - 1]!;
    void tx.objectStore('heads').put({ identity, hash: head.hash, comparable: head.body.comparable });
    void tx.objectStore('watch').put({ identity, reasons });
  }
  await tx.done;
  raw.close();
}

export async function seedAccount(db: string): Promise<string> {
  const { store } = await IdbStore.open(db);
  const peer = await Peer.open({ store });
  await peer.createSynod({ name: 'Bench' });
  // The store stays open: the engine finishes its follow-up writes on its own time, before the app navigates in.
  peer.close();
  return peer.identity;
}
