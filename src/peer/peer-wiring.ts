/**
 * What the peer does when its parts report something: the replica's and the
 * mesh's events forwarded to the app, a moved head passed to whoever acts on
 * it, and a new room link put to work. Kept apart from the facade (peer.ts)
 * because these reactions cross modules that must not import one another: the
 * replica knows nothing of the mesh, the mesh nothing of dropboxes or leases.
 */
import type { Dropbox } from './dropbox.ts';
import type { Emitter } from './events.ts';
import type { FeedLease } from './feed-lease.ts';
import type { Keys } from './keys.ts';
import type { Link } from './link.ts';
import type { Mesh } from './mesh.ts';
import type { PeerEvents } from './peer-types.ts';
import type { Publisher } from './publisher.ts';
import type { Recovery } from './recovery.ts';
import type { Replica } from './replica.ts';
import { memberCard, requestService } from './services.ts';
import type { StoredHead } from './store.ts';
import { blobsOf, type Wants } from './wants.ts';
import { watchAlong } from './watching.ts';

/** The peer's public parts: two arguments, so Peer passes itself here… */
export interface PeerShown {
  readonly events: Emitter<PeerEvents>;
  readonly replica: Replica;
  readonly mesh: Mesh;
  readonly wants: Wants;
  readonly recovery: Recovery;
}

/** …and its private fields here. */
export interface PeerKept {
  readonly keys: Keys;
  readonly dropbox: Dropbox;
  readonly feedLease: FeedLease;
  readonly publisher: Publisher;
}

type PeerParts = PeerShown & PeerKept;

export function wirePeer({ events, replica, mesh, wants, recovery }: PeerShown, kept: PeerKept): void {
  const parts: PeerParts = { events, replica, mesh, wants, recovery, ...kept };
  const { keys, dropbox, feedLease, publisher } = kept;
  replica.events.on('entry', (e) => {
    events.emit('entry', e);
    for (const ref of blobsOf(e)) wants.want(ref);
  });
  replica.events.on('rejected', (r) => events.emit('rejected', r));
  replica.events.on('head', (h) => void headMoved(parts, h));
  replica.events.on('watch', (identity) => {
    for (const link of mesh.allLinks()) void link.syncWatched([identity]).catch(() => undefined);
  });
  mesh.events.on('peer', (p) => events.emit('peer', p));
  mesh.events.on('room', (r) => events.emit('room', r));
  mesh.events.on('blob', (b) => events.emit('blob', b));
  mesh.events.on('sync', (p) => events.emit('sync', p));
  mesh.events.on('log', (l) => events.emit('log', l));
  recovery.events.on('log', (l) => events.emit('log', l));
  mesh.events.on('roomOther', ({ url, link, message }) => {
    if (message.type !== 'drops') return;
    void dropbox.receive(url, link, message).then(
      (messages) =>
        messages.forEach((m) => {
          events.emit('drop', m);
          void recovery.received(m);
        }),
      (err: Error) => events.emit('log', `drops from ${url}: ${err.message}`),
    );
  });
  mesh.events.on('roomLink', ({ url, link }) => {
    // Collecting drops is on request: ask every room we are in (a refusal only means no dropbox for us there).
    void memberCard(keys, replica)
      .then((card) => requestService(link, 'dropbox', card))
      .catch((err: Error) => events.emit('log', `dropbox at ${url}: ${err.message}`));
    if (mesh.presenceIn(url)) void feedLease.renew(link, url);
    void publisher.announceHeads();
    void link.syncWatched().catch((err: Error) => events.emit('log', `room sync: ${err.message}`));
  });
}

/** The rooms to lease at: only those we are present in (a room joined only to leave a drop is not one of ours). */
export function* leaseRooms(mesh: Mesh): Iterable<{ link: Link; url: string }> {
  for (const [url, room] of mesh.rooms) if (room.link && mesh.presenceIn(url)) yield { link: room.link, url };
}

async function headMoved({ events, keys, replica, feedLease, publisher }: PeerParts, head: StoredHead): Promise<void> {
  events.emit('head', head);
  const own = keys.device.identity;
  if (head.identity === keys.synodIdentity || head.identity === own) feedLease.moved(head.identity);
  await publisher.headMoved(head);
  await watchAlong(replica, own, head);
}
