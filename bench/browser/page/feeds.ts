/**
 * Feeds made in the page (real signed entries, WebCrypto signing) and
 * written into an engine store through `IdbStore` itself: the entries in one
 * transaction, then the heads and the watch list as the engine records them.
 * The driver then checks through the engine that the store reads back.
 */
import { IdbStore } from '../../../src/peer/idb-store.ts';
import type { WatchReason } from '../../../src/peer/store.ts';
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
  const { store } = await IdbStore.open(db);
  const chains = identities.map((identity) => {
    const chain = feeds.get(identity);
    if (!chain?.length) throw new Error(`no generated feed for ${identity}`);
    return chain;
  });
  // The entries in one transaction; heads (with their place in the change log) and the watch list as the engine writes them.
  await store.putEntries(chains.flat());
  for (const chain of chains) {
    const head = chain[chain.length - 1]!;
    await store.setHead({ identity: head.body.identity, hash: head.hash, comparable: head.body.comparable });
    await store.setWatch({ identity: head.body.identity, reasons: reasons as WatchReason[] });
  }
  store.close();
}

export async function seedAccount(db: string): Promise<string> {
  const { store } = await IdbStore.open(db);
  const peer = await Peer.open({ store });
  await peer.createSynod({ name: 'Bench' });
  // The store stays open: the engine finishes its follow-up writes on its own time, before the app navigates in.
  peer.close();
  return peer.identity;
}
