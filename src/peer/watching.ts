/**
 * Whom to replicate follows the heads (docs/peer.md, Watch list): members of
 * our synod replicate each other; following a synod follows all its devices;
 * following a device brings its synod along, for the profile and the other
 * devices.
 */
import type { Identity } from '../protocol/index.ts';
import type { Replica } from './replica.ts';
import type { StoredHead } from './store.ts';

/** Widen the watch list after `head` moved; `self` is this device, never watched as a device of its own synod. */
export async function watchAlong(replica: Replica, self: Identity, head: StoredHead): Promise<void> {
  const reasons = replica.reasons(head.identity);
  const state = replica.synod(head.identity);
  if (state) {
    const reason = reasons.includes('synod') ? 'device' : reasons.includes('follow') ? 'follow' : null;
    if (reason) for (const d of state.devices.values()) if (d.cut === null && d.device !== self) await replica.watch(d.device, reason);
  } else if (reasons.includes('follow')) {
    const claimed = (await replica.store.getEntry(head.hash))?.body.synod?.[0];
    if (claimed && !replica.isBlocked(claimed)) await replica.watch(claimed, 'follow');
  }
}
