/**
 * Blobs (design: "larger blobs are stored the same way"): named by their
 * hash, kept in the store, fetched from any link that has them. A
 * collection (album) is a directory blob over other blobs.
 */
import { buildDirectory, hashOf, type BlobRef, type DirectoryItem } from '../protocol/index.ts';
import { PeerError } from './errors.ts';
import type { Mesh } from './mesh.ts';
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

/** A blob from the store or, failing that, from any link that has it (peers first, then rooms, which may hold leases). */
export async function getBlob(store: Store, mesh: Mesh, ref: BlobRef): Promise<Uint8Array> {
  const local = await store.getBlob(ref.hash);
  if (local) return local;
  let lastError: Error | null = null;
  for (const link of mesh.allLinks()) {
    try {
      return await link.fetchBlob(ref.hash, ref.size);
    } catch (err) {
      lastError = err as Error;
    }
  }
  throw new PeerError('not_found', `no connected peer has blob ${ref.hash}${lastError ? ` (${lastError.message})` : ''}`);
}
