/**
 * The physical limits in this browser, on the entries the engine syncs:
 * WebCrypto Ed25519 verify with every check in flight, IndexedDB writes in
 * one transaction; and for diagnosis, full entry validation (openEntry) and
 * the store pattern the engine uses today (a transaction per call).
 */
import { openDB } from 'idb';
import { IdbStore } from '../../../src/peer/idb-store.ts';
import { trustedEntry } from '../../../src/peer/store.ts';
import {
  decodeIdentity,
  decodeSignature,
  domainMessage,
  hashOf,
  openEntry,
  SIGNATURE_TEXT_LENGTH,
  utf8,
  type Hash,
  type SignatureText,
} from '../../../src/protocol/index.ts';

const perSecond = (count: number, ms: number) => (count * 1000) / ms;

export async function verifyRate(texts: string[]): Promise<number> {
  const identity = (JSON.parse(texts[0]!.slice(0, texts[0]!.length - SIGNATURE_TEXT_LENGTH - 1)) as { identity: string }).identity;
  const publicKey = decodeIdentity(identity);
  if (!publicKey.ok) throw new Error(publicKey.error.message);
  const key = await crypto.subtle.importKey('raw', publicKey.value.slice(), { name: 'Ed25519' }, false, ['verify']);
  const jobs = texts.map((t) => {
    const sig = decodeSignature(t.slice(t.length - SIGNATURE_TEXT_LENGTH) as SignatureText);
    if (!sig.ok) throw new Error(sig.error.message);
    return { sig: sig.value, message: domainMessage('entry', utf8(t.slice(0, t.length - SIGNATURE_TEXT_LENGTH - 1))) };
  });
  const t0 = performance.now();
  const results = await Promise.all(
    jobs.map((j) => crypto.subtle.verify({ name: 'Ed25519' }, key, j.sig as Uint8Array<ArrayBuffer>, j.message as Uint8Array<ArrayBuffer>)),
  );
  const ms = performance.now() - t0;
  if (results.some((ok) => !ok)) throw new Error('a signature did not verify');
  return perSecond(texts.length, ms);
}

export async function validateRate(texts: string[]): Promise<number> {
  const t0 = performance.now();
  const opened = await Promise.all(texts.map((t) => openEntry(t)));
  const ms = performance.now() - t0;
  if (opened.some((r) => !r.ok)) throw new Error('an entry did not validate');
  return perSecond(texts.length, ms);
}

const rows = (texts: string[]) =>
  texts.map((text) => {
    const e = trustedEntry(hashOf(utf8(text)) as Hash, text);
    return { hash: e.hash, text, identity: e.body.identity, comparable: e.body.comparable };
  });

export async function idbOneTransaction(texts: string[], db: string): Promise<number> {
  (await IdbStore.open(db)).store.close();
  const raw = await openDB(db);
  const data = rows(texts);
  const t0 = performance.now();
  const tx = raw.transaction('entries', 'readwrite');
  for (const r of data) void tx.store.put(r);
  await tx.done;
  const ms = performance.now() - t0;
  raw.close();
  return perSecond(texts.length, ms);
}

/** What `Replica.accept` does per entry today: `hasEntry`, then `putEntry`, each its own transaction, awaited in turn. */
export async function idbPerEntry(texts: string[], db: string): Promise<number> {
  const { store } = await IdbStore.open(db);
  const entries = rows(texts).map((r) => trustedEntry(r.hash as Hash, r.text));
  const t0 = performance.now();
  for (const e of entries) if (!(await store.hasEntry(e.hash))) await store.putEntry(e);
  const ms = performance.now() - t0;
  store.close();
  return perSecond(texts.length, ms);
}

/** What walks along a chain do today (Replica.open, considerHead, serving get_feed, Peer.feed): one `getEntry` transaction per entry, in turn. */
export async function idbGetEach(texts: string[], db: string): Promise<number> {
  const { store } = await IdbStore.open(db);
  const hashes = texts.map((t) => hashOf(utf8(t)) as Hash);
  const t0 = performance.now();
  for (const h of hashes) if (!(await store.getEntry(h))) throw new Error(`entry ${h} missing from ${db}`);
  const ms = performance.now() - t0;
  store.close();
  return perSecond(texts.length, ms);
}

/**
 * The newest `limit` entries across every watched feed, in one read
 * transaction: a merge over one descending cursor per feed on the identity
 * index, reading `limit` rows plus one per feed. The best today's schema
 * allows without a timeline index of its own.
 */
export async function idbTimelineRead(db: string, limit: number): Promise<{ ms: number; rows: number }> {
  const raw = await openDB(db);
  const t0 = performance.now();
  const tx = raw.transaction(['watch', 'entries'], 'readonly');
  const watched = (await tx.objectStore('watch').getAllKeys()) as string[];
  const index = tx.objectStore('entries').index('byIdentity');
  const cursors = (
    await Promise.all(watched.map((id) => index.openCursor(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]), 'prev')))
  ).filter((c) => c !== null);
  let rows = cursors.length;
  for (let taken = 0; taken < limit && cursors.length > 0; taken++) {
    let best = 0;
    for (let i = 1; i < cursors.length; i++) if (cursors[i]!.value.comparable > cursors[best]!.value.comparable) best = i;
    const next = await cursors[best]!.continue();
    if (next) {
      cursors[best] = next;
      rows++;
    } else cursors.splice(best, 1);
  }
  const ms = performance.now() - t0;
  raw.close();
  return { ms, rows };
}
