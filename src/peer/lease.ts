/**
 * Data leasing, client side: ask a server to hold an identity's feed (and
 * the blobs its entries point to) for a while, so others can fetch it while
 * our devices are offline (design: call(service, datalease, head)). Blobs go
 * up over HTTP with a signed request; the feed itself the server pulls from
 * us over the room link, which serves get_feed to any peer.
 */
import { parseDirectory, signRequest, type BlobRef, type Entry, type Hash, type Identity, type KeyPair } from '../protocol/index.ts';
import type { Keys } from './keys.ts';
import type { Link } from './link.ts';
import type { Mesh } from './mesh.ts';
import type { Replica } from './replica.ts';
import { memberCard, requestService } from './services.ts';
import type { Store } from './store.ts';

/** The HTTP origin of a room URL (ws://host/room/x → http://host). */
export const httpOrigin = (roomUrl: string): string => {
  const u = new URL(roomUrl);
  return `${u.protocol === 'wss:' || u.protocol === 'https:' ? 'https' : 'http'}://${u.host}`;
};

/** Blobs an entry points to; a collection's directory brings its children too (when we hold it). */
export async function blobRefsOf(entry: Entry, store: Store): Promise<BlobRef[]> {
  const p = entry.body.payload;
  const refs: BlobRef[] = [];
  if (p.type === 'image') refs.push(p.blob);
  if (p.type === 'identification' && p.avatar) refs.push(p.avatar);
  if (p.type === 'collection') {
    refs.push(p.root);
    const queue = [p.root];
    while (queue.length > 0) {
      const ref = queue.shift() as BlobRef;
      const bytes = await store.getBlob(ref.hash);
      const dir = bytes ? parseDirectory(bytes, ref.hash) : null;
      if (!dir?.ok) continue;
      for (const item of dir.value.items) {
        refs.push(item.blob);
        if (item.kind === 'directory') queue.push(item.blob);
      }
    }
  }
  return refs;
}

/** PUT a blob we hold to a server, signed by `keys`; a blob the server has already is skipped. */
export async function uploadBlob(origin: string, keys: KeyPair, hash: Hash, bytes: Uint8Array): Promise<void> {
  const path = `/api/blobs/${hash}`;
  const url = `${origin}/api/blobs/${encodeURIComponent(hash)}`;
  const head = await fetch(url, { method: 'HEAD' });
  if (head.ok) return;
  const headers = await signRequest(keys, { method: 'PUT', path, time: Date.now(), length: bytes.length });
  const res = await fetch(url, {
    method: 'PUT',
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { ...headers, 'Content-Type': 'application/octet-stream' },
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new Error(`upload of ${hash} refused (${res.status}): ${body?.error?.message ?? res.statusText}`);
  }
}

export interface LeaseGrant {
  readonly identity: Identity;
  readonly head: Hash;
  readonly expires: number;
}

/** Waits before asking again while another call leases the same feed (a device's own renewal, another device of the account). */
const BUSY_RETRY_MS = [500, 1_000, 2_000, 4_000, 8_000];

/** Ask the room's server to lease `identity`'s feed at `head`; it pulls the entries from us meanwhile. */
export async function callLease(link: Link, identity: Identity, head: Hash, seconds: number): Promise<LeaseGrant> {
  for (let attempt = 0; ; attempt++) {
    const reply = await link.request({ type: 'call', service: 'datalease', identity, head, seconds }, 300_000);
    if (reply.type === 'lease') return { identity: reply.identity, head: reply.head, expires: reply.expires };
    if (reply.type !== 'error') throw new Error(`lease answered ${reply.type}`);
    // One pull per feed at a time (docs/hosted.md §3.2 rule 6): a busy feed is asked again once that pull is likely done.
    const wait = reply.code === 'unavailable' ? BUSY_RETRY_MS[attempt] : undefined;
    if (wait === undefined || link.closed) throw new Error(`lease refused: ${reply.code}: ${reply.message}`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * Ask the server behind a room to lease our feeds (this device's, and the
 * synod's when we hold its key), blobs included, so others can fetch them
 * while we are offline. Renewing is asking again.
 */
export async function requestLease(keys: Keys, replica: Replica, mesh: Mesh, roomUrl: string, seconds: number): Promise<LeaseGrant[]> {
  const room = mesh.join(roomUrl);
  if (!room.link) await room.events.once('link');
  // Leases are on request: ask first (with our account's card, for a server that grants to members).
  await requestService(room.link!, 'datalease', await memberCard(keys, replica));
  const grants: LeaseGrant[] = [];
  for (const signer of [keys.device, keys.synod]) {
    if (!signer) continue;
    const head = await replica.head(signer.identity);
    if (!head) continue;
    for (const entry of await replica.chain(signer.identity)) {
      for (const ref of await blobRefsOf(entry, replica.store)) {
        const bytes = await replica.store.getBlob(ref.hash);
        if (bytes) await uploadBlob(httpOrigin(roomUrl), signer, ref.hash, bytes);
      }
    }
    grants.push(await callLease(room.link!, signer.identity, head.hash, seconds));
  }
  return grants;
}
