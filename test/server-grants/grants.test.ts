/**
 * Services on request under an operator's restrictive policy (vitest.config.ts,
 * workers-grants): datalease for the devices of one member account with a
 * lease quota of 1, dropbox collection for one allowed identity. Each refusal
 * has its grant beside it, in the same room.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  createEntry,
  generateKeyPair,
  hashOf,
  keyPairFromSeed,
  signMembership,
  utf8,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
  type Service,
} from '../../src/protocol/index.ts';
import type { Session } from '../support/room-client.ts';
import { chainOf, serveFeed } from '../server/hosted-helpers.ts';
import { join, leaveAll, roomName, settleRooms, sleep } from '../server/room-helpers.ts';
import { POLICY } from './policy.ts';

afterAll(settleRooms);

const seeded = (byte: number) => keyPairFromSeed(new Uint8Array(32).fill(byte));
let ids = 0;

/** request_service; the answer (ok, or the error). */
async function request(s: Session, service: Service, member?: string) {
  const id = `r${ids++}`;
  s.client.send({ type: 'request_service', id, service, ...(member !== undefined && { member }) });
  return s.client.answer(id);
}

async function call(s: Session, identity: Identity, head: Hash) {
  const id = `c${ids++}`;
  s.client.send({ type: 'call', id, service: 'datalease', identity, head, seconds: 3600 });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const i = s.client.inbox.findIndex((m) => (m.type === 'lease' || m.type === 'error') && m.re === id);
    if (i >= 0) return s.client.inbox.splice(i, 1)[0]!;
    if (Date.now() > deadline) throw new Error(`no answer to call ${id}`);
    await sleep(5);
  }
}

/** The synod entry admitting `device`: the card a member device shows. */
const addDevice = async (synod: KeyPair, device: KeyPair, parent: Entry | null = null, comparable = 1): Promise<Entry> =>
  createEntry(synod, {
    parent: parent?.hash ?? null,
    comparable,
    synod: null,
    payload: { type: 'synod', op: 'add_device', device: device.identity, proof: await signMembership(device, synod.identity) },
  });

describe('services on request under the operator policy', { timeout: 30_000 }, () => {
  it('the policy names the identities its seeds give', async () => {
    expect((await seeded(POLICY.memberSynodSeed)).identity).toBe(POLICY.memberSynod);
    expect((await seeded(POLICY.allowedSeed)).identity).toBe(POLICY.allowed);
  });

  it('datalease: refused to strangers, to other accounts and to forged cards; granted to a member device, which may then lease', async () => {
    const room = roomName('grant-members');
    const member = await seeded(POLICY.memberSynodSeed);
    const device = await generateKeyPair();
    const card = await addDevice(member, device);

    const stranger = await join(room);
    // Not granted: a call is refused before anything else happens.
    stranger.client.send({
      type: 'call',
      id: 'early',
      service: 'datalease',
      identity: stranger.identity,
      head: hashOf(utf8('x')),
      seconds: 60,
    });
    expect((await stranger.client.error('early')).code).toBe('forbidden');
    const plain = await request(stranger, 'datalease');
    expect(plain).toMatchObject({ type: 'error', code: 'forbidden' });
    // The refusal says why without naming the member accounts.
    expect(plain.type === 'error' && plain.message).not.toContain(POLICY.memberSynod);

    // Another account's genuine card: not a member here.
    const otherSynod = await generateKeyPair();
    const other = await join(room);
    const otherCard = await addDevice(otherSynod, other.keys);
    expect(await request(other, 'datalease', otherCard.text)).toMatchObject({ type: 'error', code: 'forbidden' });

    // The member's card presented by someone it does not name.
    expect(await request(stranger, 'datalease', card.text)).toMatchObject({ type: 'error', code: 'bad_entry' });

    // Positive control: the member device itself is granted, and a lease of its own feed goes through.
    const d = await join(room, { keys: device });
    expect(await request(d, 'datalease', card.text)).toMatchObject({ type: 'ok' });
    expect((await d.client.next('provides')).services).toContain('datalease');
    const chain = await chainOf(device, 3, { synod: [member.identity, card.hash] });
    d.client.send({ type: 'announce', id: 'h', entry: chain[2]!.text });
    await d.client.next('ok', (m) => m.re === 'h');
    serveFeed(d, chain);
    expect(await call(d, device.identity, chain[2]!.hash)).toMatchObject({ type: 'lease', identity: device.identity });

    // The account's quota is 1: a second feed of it (the synod's) is refused, renewing the first is not.
    const synodChain = [card];
    serveFeed(d, synodChain);
    expect(await call(d, member.identity, card.hash)).toMatchObject({ type: 'error', code: 'quota' });
    expect(await call(d, device.identity, chain[2]!.hash)).toMatchObject({ type: 'lease' });

    // The synod key itself needs no card.
    const s = await join(room, { keys: member });
    expect(await request(s, 'datalease')).toMatchObject({ type: 'ok' });
    await leaveAll([stranger, other, d, s]);
  });

  it('datalease: a device its account revoked, as the room knows, is refused with the very card that worked before', async () => {
    const room = roomName('grant-revoked');
    const member = await seeded(POLICY.memberSynodSeed);
    const [lost, kept] = [await generateKeyPair(), await generateKeyPair()];
    const addLost = await addDevice(member, lost, null, 10);
    const addKept = await addDevice(member, kept, addLost, 11);
    const revoke = await createEntry(member, {
      parent: addKept.hash,
      comparable: 12,
      synod: null,
      payload: { type: 'synod', op: 'revoke_device', device: lost.identity, cut: 5 },
    });

    const l = await join(room, { keys: lost });
    const lostHead = await createEntry(lost, {
      parent: null,
      comparable: 1,
      synod: [member.identity, addLost.hash],
      payload: { type: 'public_note', text: 'hi' },
    });
    l.client.send({ type: 'announce', id: 'l', entry: lostHead.text });
    await l.client.next('ok', (m) => m.re === 'l');
    expect(await request(l, 'datalease', addLost.text)).toMatchObject({ type: 'ok' });
    await leaveAll([l]);

    // The kept device shows the room its synod's revocation.
    const k = await join(room, { keys: kept });
    const keptHead = await createEntry(kept, {
      parent: null,
      comparable: 1,
      synod: [member.identity, revoke.hash],
      payload: { type: 'public_note', text: 'hi' },
    });
    k.client.send({ type: 'announce', id: 'k', entry: keptHead.text });
    await k.client.next('ok', (m) => m.re === 'k');
    k.client.send({ type: 'announce', id: 'r', entry: revoke.text });
    await k.client.next('ok', (m) => m.re === 'r');

    const again = await join(room, { keys: lost });
    expect(await request(again, 'datalease', addLost.text)).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await request(k, 'datalease', addKept.text)).toMatchObject({ type: 'ok' });
    await leaveAll([again, k]);
  });

  it('dropbox: collecting is for the allowed identity only; leaving a drop stays open to everyone', async () => {
    const room = roomName('grant-allow');
    const allowed = await seeded(POLICY.allowedSeed);
    const sender = await join(room);
    const drop = await createEntry(sender.keys, {
      parent: null,
      comparable: 1,
      synod: null,
      payload: { type: 'public_note', text: 'hello' },
    });
    sender.client.send({ type: 'drop', id: 'd', target: allowed.identity, sender: sender.identity, entry: drop.text });
    await sender.client.next('ok', (m) => m.re === 'd');
    expect(await request(sender, 'dropbox')).toMatchObject({ type: 'error', code: 'forbidden' });

    const a = await join(room, { keys: allowed });
    expect(a.client.inbox.some((m) => m.type === 'drops')).toBe(false);
    expect(await request(a, 'dropbox')).toMatchObject({ type: 'ok' });
    // Granted: the waiting drop is announced now.
    expect((await a.client.next('drops')).drops.map((x) => x.hash)).toContain(drop.hash);
    await leaveAll([sender, a]);
  });
});
