/**
 * Web Push from the real Worker (wrangler dev) to a local RFC 8030 push
 * service (test/support/push-service.ts: checks VAPID, decrypts RFC 8291),
 * with Node peers: registration by signed request and what it refuses; a
 * drop for an account wakes its device with "a message" and nothing else; a
 * call offer to someone not in the room wakes them with the caller, other
 * call signals do not, and one to someone present who does not take the
 * caller's messages wakes nobody; a subscription the push service says is gone (410)
 * is removed; a flood of drops to one target is capped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import { loadKeys } from '../../src/peer/keys.ts';
import { membershipEntry, pushConfig, PushRefused, registerPush, unregisterPush } from '../../src/peer/push.ts';
import { pushPath, signRequest, type KeyPair } from '../../src/protocol/index.ts';
import { eventually } from '../peer/helpers.ts';
import { startLocalWorker, type LocalWorker } from '../support/local-worker.ts';
import { startPushService, vapidKeys, type PushService, type Vapid } from '../support/push-service.ts';

let worker: LocalWorker;
let service: PushService;
let vapid: Vapid;
const peers: Peer[] = [];

beforeAll(async () => {
  vapid = await vapidKeys();
  service = await startPushService(vapid.publicKey);
  worker = await startLocalWorker({
    vars: {
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: vapid.subject,
      PUSH_SERVICES: service.host,
      PUSH_PER_TARGET_HOUR: '5',
      PUSH_PER_SENDER_HOUR: '3',
    },
    env: { NODE_EXTRA_CA_CERTS: service.caFile },
  });
}, 90_000);

afterAll(async () => {
  for (const p of peers) p.close();
  await worker?.stop();
  await service?.stop();
});

let rooms = 0;
const ws = () => worker.url.replace(/^http/, 'ws');

async function person(name?: string): Promise<{ peer: Peer; keys: KeyPair }> {
  const peer = await Peer.open({ store: new MemoryStore() });
  peers.push(peer);
  const room = peer.connect(`${ws()}/room/push-${++rooms}`);
  if (room.status !== 'online') await room.events.once('status', (s) => s === 'online');
  if (name) await peer.createSynod({ name }, { signalling: [`${ws()}/room/main`], dropboxes: [worker.url] });
  return { peer, keys: (await loadKeys(peer.replica.store)).device };
}

const dropbox = () => `${ws()}/room/dropbox`;

describe('Web Push from the Worker', { timeout: 120_000 }, () => {
  it('tells its VAPID key, and registers a device and its account by signed request', async () => {
    expect(await pushConfig(worker.url)).toEqual({ configured: true, publicKey: vapid.publicKey });
    const { peer, keys } = await person('Ada');
    const sub = await service.subscribe();
    const member = await membershipEntry(peer.replica, peer.identity, peer.synodIdentity);
    const reg = await registerPush(worker.url, keys, sub.json, ['message', 'call'], member);
    expect(reg.identities).toEqual([peer.identity, peer.synodIdentity]);
    expect(reg.kinds).toEqual(['call', 'message']);
  });

  it('refuses what it must: unsigned, another push service, a body not the one signed, a membership of someone else', async () => {
    const { keys } = await person();
    const other = await person('Bo');
    const sub = await service.subscribe();
    const body = JSON.stringify({ endpoint: sub.json.endpoint, keys: sub.json.keys, kinds: ['message'] });
    const unsigned = await fetch(`${worker.url}${pushPath(body)}`, { method: 'PUT', body });
    expect(unsigned.status).toBe(401);
    const elsewhere = { ...sub.json, endpoint: 'https://push.evil.example/x' };
    await expect(registerPush(worker.url, keys, elsewhere, ['message'])).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    // Signed for one body, sent with another of the same length.
    const headers = await signRequest(keys, { method: 'PUT', path: pushPath(body), time: Date.now(), length: body.length });
    const swapped = body.replace('"message"', '"massage"');
    const res = await fetch(`${worker.url}${pushPath(body)}`, { method: 'PUT', body: swapped, headers });
    expect(res.status).toBe(409);
    const theirs = await membershipEntry(other.peer.replica, other.peer.identity, other.peer.synodIdentity);
    const refused = await registerPush(worker.url, keys, sub.json, ['message'], theirs).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PushRefused);
    expect((refused as PushRefused).message).toMatch(/not the synod entry that added this device/);
  });

  it('where the account leases its feed here, a device it revoked is not woken for it; its other devices are', async () => {
    const laptop = await person('Gus');
    const [phone, tablet] = [await person(), await person()];
    const synod = laptop.peer.synodIdentity!;
    for (const d of [phone, tablet]) {
      await laptop.peer.acceptPairing(await d.peer.pairingCode(synod));
      await d.peer.connect([...laptop.peer.mesh.rooms.keys()][0]!).events.once('status', (s) => s === 'online');
      await eventually(() => d.peer.synodState()?.devices.has(d.peer.identity) ?? false, 20_000, 'membership');
    }
    await laptop.peer.revokeDevice(phone.peer.identity);
    await laptop.peer.requestLease(`${ws()}/room/lease-${rooms}`);
    // The add_device entry each was admitted with (a thief's client would keep sending it).
    const added = async (d: typeof phone) =>
      (await laptop.peer.replica.store.getEntry(laptop.peer.synodState()!.devices.get(d.peer.identity)!.addedIn))!.text;
    const register = async (d: typeof phone) =>
      registerPush(worker.url, d.keys, (await service.subscribe()).json, ['message'], await added(d));
    await expect(register(phone)).rejects.toMatchObject({ status: 403, message: /not a member of that account any more/ });
    expect((await register(tablet)).identities).toEqual([tablet.peer.identity, synod]);
  });

  it('a drop for an account wakes its device with "a message": no sender, no content; headers as RFC 8030 asks', async () => {
    const ada = await person('Ada');
    const sub = await service.subscribe();
    await registerPush(
      worker.url,
      ada.keys,
      sub.json,
      ['message'],
      await membershipEntry(ada.peer.replica, ada.peer.identity, ada.peer.synodIdentity),
    );
    const stranger = await person();
    await stranger.peer.sendDrop(ada.peer.synodIdentity!, 'a secret only Ada may read', dropbox());
    await eventually(() => sub.received.length === 1, 20_000, 'the push');
    const [push] = sub.received;
    expect(JSON.parse(push!.plaintext)).toEqual({ v: 1, kind: 'message' });
    expect(push!.plaintext).not.toContain(stranger.peer.identity);
    expect(push!.headers).toEqual({ ttl: '86400', urgency: 'normal', topic: 'message' });
    expect(sub.refused).toEqual([]);
  });

  it('a call offer to someone not in the room wakes them with the caller; other call signals do not', async () => {
    const callee = await person('Cy');
    const sub = await service.subscribe();
    await registerPush(worker.url, callee.keys, sub.json, ['call']);
    const caller = await person();
    const room = [...caller.peer.mesh.rooms.values()][0]!;
    room.sendTo(callee.peer.identity, { ch: 'call', id: 'c1', op: 'ice', candidate: { candidate: '' } });
    room.sendTo(callee.peer.identity, { ch: 'rtc', sdp: { type: 'offer', sdp: 'v=0' } });
    room.sendTo(callee.peer.identity, { ch: 'call', id: 'c1', op: 'offer', sdp: 'v=0\r\n', video: false });
    await eventually(() => sub.received.length === 1, 20_000, 'the call push');
    expect(JSON.parse(sub.received[0]!.plaintext)).toEqual({ v: 1, kind: 'call', from: caller.peer.identity });
    expect(sub.received[0]!.headers).toEqual({ ttl: '60', urgency: 'high', topic: 'call' });
    // A drop does not wake a subscription that asked for calls only: the marker arrives elsewhere first.
    const marker = await service.subscribe();
    await registerPush(worker.url, callee.keys, marker.json, ['message']);
    await caller.peer.sendDrop(callee.peer.identity, 'hello', dropbox());
    await eventually(() => marker.received.length === 1, 20_000, 'the marker push');
    expect(sub.received).toHaveLength(1);
  });

  it('a call offer to someone in the room who does not take messages from the caller wakes nobody; once they left, it does', async () => {
    const callee = await person('Ed');
    const url = `${ws()}/room/push-${rooms}`;
    const sub = await service.subscribe();
    await registerPush(worker.url, callee.keys, sub.json, ['call']);
    // The caller is a stranger to Ed, in Ed's room: the room's rule (docs/protocol.md §13.8 rule 13) comes first.
    const caller = await Peer.open({ store: new MemoryStore() });
    peers.push(caller);
    const room = caller.connect(url);
    if (room.status !== 'online') await room.events.once('status', (s) => s === 'online');
    const offer = (id: string) => room.sendTo(callee.peer.identity, { ch: 'call', id, op: 'offer', sdp: 'v=0\r\n', video: false });
    offer('refused');
    // A marker through the same room afterwards: a drop wakes Ed's message subscription.
    const marker = await service.subscribe();
    await registerPush(worker.url, callee.keys, marker.json, ['message']);
    await caller.sendDrop(callee.peer.identity, 'marker', dropbox());
    await eventually(() => marker.received.length === 1, 20_000, 'the marker push');
    expect(sub.received).toHaveLength(0);
    // Positive control: Ed's app closes (no socket in the room): the same offer wakes him.
    callee.peer.disconnect(url);
    // The room may still hold Ed's socket for a moment: offer again (twice a second) until the push comes.
    let next = 0;
    await eventually(
      () => {
        if (Date.now() >= next) {
          offer('absent');
          next = Date.now() + 500;
        }
        return sub.received.length > 0;
      },
      20_000,
      'the call push once Ed is away',
    );
    expect(JSON.parse(sub.received[0]!.plaintext)).toEqual({ v: 1, kind: 'call', from: caller.identity });
  });

  it('a subscription the push service says is gone (410) is removed; the live one keeps getting pushes', async () => {
    const di = await person('Di');
    const [gone, live] = [await service.subscribe(), await service.subscribe()];
    const member = await membershipEntry(di.peer.replica, di.peer.identity, di.peer.synodIdentity);
    for (const s of [gone, live]) await registerPush(worker.url, di.keys, s.json, ['message'], member);
    gone.status = 410;
    const sender = await person();
    await sender.peer.sendDrop(di.peer.synodIdentity!, 'one', dropbox());
    await eventually(() => live.received.length === 1, 20_000, 'the first push');
    // The server forgot the gone endpoint (for the device and the account), and still has the live one.
    await eventually(async () => (await unregisterPush(worker.url, di.keys, gone.json.endpoint)) === 0, 20_000, 'the 410 to be acted on');
    gone.status = 201;
    await sender.peer.sendDrop(di.peer.synodIdentity!, 'two', dropbox());
    await eventually(() => live.received.length === 2, 20_000, 'the second push');
    expect(gone.received).toEqual([]);
    expect(await unregisterPush(worker.url, di.keys, live.json.endpoint)).toBe(2);
  });

  it('a device whose app is open where the drop arrives is told there, not pushed; once closed it is pushed', async () => {
    const cy = await person('Cy');
    const sub = await service.subscribe();
    await registerPush(
      worker.url,
      cy.keys,
      sub.json,
      ['message'],
      await membershipEntry(cy.peer.replica, cy.peer.identity, cy.peer.synodIdentity),
    );
    const room = cy.peer.connect(dropbox());
    if (room.status !== 'online') await room.events.once('status', (s) => s === 'online');
    const sender = await person();
    const kept = cy.peer.events.once('drop', (m) => m.text?.includes('while open') ?? false);
    await sender.peer.sendDrop(cy.peer.synodIdentity!, 'while open', dropbox());
    await kept;
    cy.peer.disconnect(dropbox());
    await sender.peer.sendDrop(cy.peer.synodIdentity!, 'while closed', dropbox());
    await eventually(() => sub.received.length === 1, 20_000, 'the push for the closed app');
    expect(sub.received).toHaveLength(1);
  });

  it('a flood of drops to one target is capped (5 an hour here), from many senders', async () => {
    const ed = await person('Ed');
    const sub = await service.subscribe();
    await registerPush(
      worker.url,
      ed.keys,
      sub.json,
      ['message'],
      await membershipEntry(ed.peer.replica, ed.peer.identity, ed.peer.synodIdentity),
    );
    const senders = await Promise.all([person(), person(), person(), person()]);
    for (const s of senders) for (let i = 0; i < 3; i++) await s.peer.sendDrop(ed.peer.synodIdentity!, `flood ${i}`, dropbox());
    await eventually(() => sub.received.length >= 5, 20_000, 'pushes up to the cap');
    // A marker to someone else, sent after the flood, arrives: the flood's pushes have had their turn.
    const fi = await person('Flo');
    const marker = await service.subscribe();
    await registerPush(worker.url, fi.keys, marker.json, ['message']);
    await senders[0]!.peer.sendDrop(fi.peer.identity, 'marker', dropbox());
    await eventually(() => marker.received.length === 1, 20_000, 'the marker push');
    expect(sub.received).toHaveLength(5);
  });
});
