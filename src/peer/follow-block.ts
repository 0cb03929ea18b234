/**
 * This device's own follow, block and mute, as the local state changes they
 * need before the entry is published: the watch list, the block flag, a link
 * to close, and consent settled so presence and watches agree at once rather
 * than at the next head. What other feeds of the account say is merged
 * separately (adopt-follows.ts).
 */
import type { Entry, Identity, Payload } from '../protocol/index.ts';
import type { Consent } from './consent.ts';
import type { Mesh } from './mesh.ts';
import type { Replica } from './replica.ts';
import { watchAlong } from './watching.ts';

/** The parts of the peer these touch (a structural type, so this module does not import peer.ts). */
export interface Relating {
  readonly identity: Identity;
  readonly replica: Replica;
  readonly mesh: Mesh;
  readonly consent: Consent;
  publish(payload: Payload): Promise<Entry>;
}

export async function startFollowing(peer: Relating, identity: Identity): Promise<Entry> {
  await peer.replica.watch(identity, 'follow');
  await peer.replica.setBlocked(identity, false);
  // Already held (looked up before following): widen to its devices now, not at its next head.
  const head = await peer.replica.head(identity);
  if (head) await watchAlong(peer.replica, peer.identity, head);
  const entry = await peer.publish({ type: 'follow', identity });
  await peer.consent.settle();
  return entry;
}

/** What a block and a mute share: nothing more is fetched from or shown to `identity`, starting now. */
export async function stopSharing(peer: Relating, identity: Identity): Promise<void> {
  await peer.replica.setBlocked(identity, true);
  await peer.replica.unwatch(identity, 'follow');
  peer.mesh.linkTo(identity)?.close('blocked');
  await peer.consent.settle();
}
