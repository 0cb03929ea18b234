/**
 * Blobs (design: "larger blobs are stored the same way"): named by their
 * hash, kept in the store, fetched from a link that says it has them
 * (wants.ts). A collection (album) is a directory blob over other blobs.
 */
import { buildDirectory, hashOf, type BlobRef, type DirectoryItem } from '../protocol/index.ts';
import type { Store } from './store.ts';

export async function addBlob(store: Store, bytes: Uint8Array): Promise<BlobRef> {
  const hash = hashOf(bytes);
  await store.putBlob(hash, bytes);
  return { hash, size: bytes.length };
}

export async function addCollection(store: Store, items: readonly DirectoryItem[]): Promise<BlobRef> {
  const dir = buildDirectory(items);
  await store.putBlob(dir.ref.hash, dir.bytes);
  return dir.ref;
}
