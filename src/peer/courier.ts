/**
 * Leaving one drop at a dropbox room, joining the room for the occasion when
 * this device is not in it already. Recovery's shares, requests and releases
 * go this way: each is a signed standalone entry for one target.
 */
import type { Entry, Identity } from '../protocol/index.ts';
import { sendDrop } from './dropbox.ts';
import { PeerError } from './errors.ts';
import { within } from './events.ts';
import type { Mesh } from './mesh.ts';

export async function dropAt(mesh: Mesh, url: string, target: Identity, drop: Entry, timeoutMs = 15_000): Promise<void> {
  const joinedHere = !mesh.rooms.has(url);
  const room = mesh.join(url);
  try {
    if (!room.link) await within(room.events.once('link'), timeoutMs);
    const link = room.link;
    if (!link) throw new PeerError('not_found', `the dropbox at ${url} did not answer within ${timeoutMs / 1000} s`);
    await sendDrop(link, target, drop);
  } finally {
    if (joinedHere) mesh.leave(url);
  }
}
