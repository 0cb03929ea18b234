/**
 * Web Push, timed on loopback against the real Worker (wrangler dev) and a
 * local RFC 8030 push service (test/support/push-service.ts: VAPID checked,
 * payload decrypted), with Node peers. Measured: from a stranger's drop
 * leaving its socket to the decrypted push at the push service, for a target
 * whose app is closed. Baseline, in the same run: the same drop reaching the
 * target's open app (the room's `drops` notice, fetched and kept in its
 * inbox; a device told in the room is not pushed as well). test/e2e/push.test.ts adds the last step in Chromium (the service
 * worker showing the notification: about 5–15 ms here).
 */
import { performance } from 'node:perf_hooks';
import { dropboxRoom } from '../src/peer/dropbox.ts';
import { loadKeys } from '../src/peer/keys.ts';
import { MemoryStore } from '../src/peer/memory-store.ts';
import { Peer } from '../src/peer/peer.ts';
import { membershipEntry, registerPush } from '../src/peer/push.ts';
import { startLocalWorker } from '../test/support/local-worker.ts';
import { startPushService, vapidKeys } from '../test/support/push-service.ts';
import { printTable, ratio, spread, withRange } from './table.ts';

const ROUNDS = 10;

async function online(peer: Peer, url: string): Promise<void> {
  const room = peer.connect(url);
  if (room.status !== 'online') await room.events.once('status', (s) => s === 'online');
}

export default async function run(): Promise<void> {
  const vapid = await vapidKeys();
  const service = await startPushService(vapid.publicKey);
  const worker = await startLocalWorker({
    vars: {
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: vapid.subject,
      PUSH_SERVICES: service.host,
      PUSH_PER_TARGET_HOUR: '1000',
      PUSH_PER_SENDER_HOUR: '1000',
    },
    env: { NODE_EXTRA_CA_CERTS: service.caFile },
  });
  const room = dropboxRoom(worker.url);
  const peers: Peer[] = [];
  const open = async () => {
    const p = await Peer.open({ store: new MemoryStore() });
    peers.push(p);
    await online(p, room);
    return p;
  };
  try {
    const target = await open();
    await target.createSynod({ name: 'Ada' }, { signalling: [room], dropboxes: [worker.url] });
    const sub = await service.subscribe();
    const keys = (await loadKeys(target.replica.store)).device;
    await registerPush(
      worker.url,
      keys,
      sub.json,
      ['message'],
      await membershipEntry(target.replica, target.identity, target.synodIdentity),
    );
    const sender = await open();
    const account = target.synodIdentity!;

    const appOpen: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const kept = target.events.once('drop');
      const t0 = performance.now();
      await sender.sendDrop(account, `open ${i}`, room);
      await kept;
      appOpen.push(performance.now() - t0);
    }
    target.disconnect(room);
    const closed: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const before = sub.received.length;
      const arrived = new Promise<void>((resolve) => {
        const poll = () => (sub.received.length > before ? resolve() : setTimeout(poll, 1));
        poll();
      });
      const t0 = performance.now();
      await sender.sendDrop(account, `closed ${i}`, room);
      await arrived;
      closed.push(performance.now() - t0);
    }
    const base = spread(appOpen);
    const push = spread(closed);
    printTable(`A drop reaching its target, loopback (ms, median and range of ${ROUNDS})`, [
      { path: 'app open: the room tells it, it fetches and keeps the drop (baseline)', ms: withRange(base, 1), ratio: '1.00×' },
      { path: 'app closed: Web Push at the push service, decrypted', ms: withRange(push, 1), ratio: ratio(push.median, base.median) },
    ]);
  } finally {
    for (const p of peers) p.close();
    await worker.stop();
    await service.stop();
  }
}
