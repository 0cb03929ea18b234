/**
 * Against the real Worker (wrangler dev): pairing by a 12-digit code through
 * a rendezvous room, a message to a stranger through the dropbox with the
 * sender's card, and the pending mark that clears once a room takes a post.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import { RoomClient } from '../../src/peer/room-client.ts';
import { derivePairing, generateKeyPair, newPairingCode, sealPair, signMembership } from '../../src/protocol/index.ts';
import { startLocalWorker, type LocalWorker } from '../support/local-worker.ts';
import { eventually } from '../peer/helpers.ts';

let worker: LocalWorker;
const peers: Peer[] = [];
let rooms = 0;

beforeAll(async () => {
  worker = await startLocalWorker();
}, 90_000);

afterAll(async () => {
  for (const p of peers) p.close();
  await worker?.stop();
});

const wsUrl = (name: string) => `${worker.url.replace(/^http/, 'ws')}/room/${name}`;

async function open(room?: string): Promise<Peer> {
  const peer = await Peer.open({ store: new MemoryStore() });
  peers.push(peer);
  if (room) {
    const r = peer.connect(wsUrl(room));
    if (r.status !== 'online') await r.events.once('status', (s) => s === 'online');
  }
  return peer;
}

describe('pairing by code through the local room', { timeout: 120_000 }, () => {
  it('the new device shows a code, the old one enters it: the new device becomes a named member and syncs', async () => {
    const room = `pairing-${++rooms}`;
    const laptop = await open(room);
    await laptop.createSynod({ name: 'Ada' }, undefined, 'Laptop');
    const note = await laptop.postNote('before the phone');
    const phone = await open(room);

    const code = newPairingCode();
    const joining = phone.joinPairing(code, worker.url, 'Phone');
    const holding = laptop.holdPairing(code, worker.url);
    const [joined, held] = await Promise.all([joining.done, holding.done]);
    expect(joined.synod).toBe(laptop.synodIdentity);
    expect(joined.name).toBe('Ada');
    expect(held).toEqual({ device: phone.identity, name: 'Phone' });
    expect(laptop.synodState()?.devices.get(phone.identity)?.name).toBe('Phone');
    await eventually(() => phone.synodState()?.devices.has(phone.identity) ?? false, 30_000, 'the phone to learn it is a member');
    await eventually(async () => (await phone.replica.head(laptop.identity))?.hash === note.hash, 30_000, "the laptop's feed on the phone");
  });

  it('works the other way round too: the old device shows the code, the new one types it', async () => {
    const laptop = await open();
    await laptop.createSynod({ name: 'Bea' });
    const phone = await open();
    const code = newPairingCode();
    const holding = laptop.holdPairing(code, worker.url, 'Tablet');
    const joining = phone.joinPairing(code, worker.url);
    const [held] = await Promise.all([holding.done, joining.done]);
    expect(held.device).toBe(phone.identity);
    expect(laptop.synodState()?.devices.get(phone.identity)?.name).toBe('Tablet');
  });

  it('the old device still verifies the membership proof: a join whose proof is not for this account adds nobody', async () => {
    const laptop = await open();
    await laptop.createSynod({ name: 'Cy' });
    const code = newPairingCode();
    const secrets = await derivePairing(code);
    // Someone holding the code answers with a proof made for another synod.
    const intruder = await generateKeyPair();
    const elsewhere = await generateKeyPair();
    const client = new RoomClient({
      url: wsUrl(secrets.room),
      keys: secrets.keys,
      replica: laptop.replica,
      provides: ['blobs'],
      head: async () => null,
    });
    const proof = await signMembership(intruder, elsewhere.identity);
    client.events.on('message', () =>
      client.sendTo(
        secrets.keys.identity,
        sealPair(secrets.box, { op: 'join', synod: laptop.synodIdentity!, device: intruder.identity, proof }),
      ),
    );
    const holding = laptop.holdPairing(code, worker.url);
    await expect(holding.done).rejects.toThrow(/does not verify/);
    client.close();
    expect(laptop.synodState()?.devices.has(intruder.identity)).toBe(false);
  });

  it('a code nobody else entered times out with a clear error; cancelling ends at once', async () => {
    const laptop = await open();
    await laptop.createSynod({ name: 'Di' });
    const holding = laptop.holdPairing(newPairingCode(), worker.url);
    setTimeout(() => holding.cancel(), 500);
    await expect(holding.done).rejects.toThrow(/cancelled/);
    const phone = await open();
    const joining = phone.joinPairing(newPairingCode(), worker.url, undefined, 2000);
    await expect(joining.done).rejects.toThrow(/no device answered with this code/);
    expect(phone.synodIdentity).toBeNull();
  });
});

describe('a message to a stranger through the dropbox', { timeout: 120_000 }, () => {
  it("arrives with the sender's name from its card, and the reply comes back the same way", async () => {
    const room = `strangers-${++rooms}`;
    const dropbox = worker.url;
    const servers = { signalling: [wsUrl(room)], dropboxes: [dropbox] };
    const alice = await open(room);
    await alice.createSynod({ name: 'Alice' }, servers);
    alice.connect(wsUrl('dropbox'));
    const carol = await open(room);
    await carol.createSynod({ name: 'Carol' }, servers);
    carol.connect(wsUrl('dropbox'));

    const sent = await carol.sendMessage([alice.synodIdentity!], 'We met at the market', { via: () => wsUrl('dropbox') });
    expect(sent.dropped).toEqual([alice.synodIdentity]);
    await eventually(async () => (await alice.messages()).some((m) => m.id === sent.id), 30_000, 'alice to get the drop');
    const got = (await alice.messages()).find((m) => m.id === sent.id)!;
    expect(got).toMatchObject({ via: 'drop', from: carol.synodIdentity, text: 'We met at the market', to: [alice.synodIdentity] });
    expect(got.sender).toMatchObject({ synod: carol.synodIdentity, name: 'Carol' });
    expect(got.replyTo).toEqual([dropbox]);
    // Carol's own copy is on her feed.
    expect((await carol.messages()).find((m) => m.id === sent.id)).toMatchObject({ via: 'feed', from: carol.synodIdentity });

    const reply = await alice.sendMessage([carol.synodIdentity!], 'Hello Carol!', {
      via: () => wsUrl('dropbox'),
      devices: () => [got.author],
    });
    expect(reply.dropped).toEqual([carol.synodIdentity]);
    await eventually(async () => (await carol.messages()).some((m) => m.id === reply.id), 30_000, 'carol to get the reply');
    expect((await carol.messages()).find((m) => m.id === reply.id)?.sender?.name).toBe('Alice');

    // They follow each other now (links are by consent: a device links with one who follows it once it
    // knows of the follow, docs/peer.md Links): the feed copy of Carol's message arrives too, and it is still one message.
    const carolsCopy = (await carol.messages()).find((m) => m.id === sent.id)!;
    await alice.follow(carol.synodIdentity!);
    await carol.follow(alice.synodIdentity!);
    await eventually(async () => (await alice.replica.store.hasEntry(carolsCopy.hash)) === true, 30_000, "Carol's feed on Alice's device");
    const copies = (await alice.messages()).filter((m) => m.id === sent.id);
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ via: 'feed', from: carol.synodIdentity, text: 'We met at the market' });
  });
});

describe('publishing', { timeout: 60_000 }, () => {
  it('a post is pending until a room takes it', async () => {
    const peer = await open();
    await peer.createSynod({ name: 'Eve' });
    const offline = await peer.postNote('written with no room');
    expect(peer.publishedUpTo()).toBeLessThan(offline.body.comparable);
    const published = peer.events.once('published', (p) => p.identity === peer.identity && p.comparable >= offline.body.comparable);
    peer.connect(wsUrl(`publish-${++rooms}`));
    await published;
    expect(peer.publishedUpTo()).toBeGreaterThanOrEqual(offline.body.comparable);
  });
});
