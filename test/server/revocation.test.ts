/**
 * Head tracking knows revocation (docs/protocol.md §9.7, docs/room.md §7): a
 * device its synod revoked has no heads tracked past the cut, whatever synod
 * its later entries claim, once the room was shown the revocation.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  createEntry,
  generateKeyPair,
  signMembership,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
} from '../../src/protocol/index.ts';
import type { Session } from '../support/room-client.ts';
import { serveFeed } from './hosted-helpers.ts';
import { join, leaveAll, note, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

let ids = 0;
async function announce(s: Session, e: Entry): Promise<string> {
  const id = `a${ids++}`;
  s.client.send({ type: 'announce', id, entry: e.text });
  const answer = await s.client.answer(id);
  return answer.type === 'error' ? `${answer.code}: ${answer.message}` : answer.type;
}
async function heads(s: Session, identities: Identity[]): Promise<[Identity, Hash][]> {
  const id = `g${ids++}`;
  s.client.send({ type: 'get_heads', id, identities });
  return (await s.client.next('last_known_heads', (m) => m.re === id)).heads;
}
const post = (keys: KeyPair, comparable: number, synod: [Identity, Hash] | null, parent: Hash | null = null) =>
  createEntry(keys, { parent, comparable, synod, payload: note(`post ${comparable}`) });
const synodEntry = async (synod: KeyPair, comparable: number, parent: Entry | null, payload: Entry['body']['payload']) =>
  createEntry(synod, { parent: parent?.hash ?? null, comparable, synod: null, payload });

describe('revocation in head tracking', { timeout: 30_000 }, () => {
  it("drops a revoked device's head past the cut, refuses its later heads under any claim, and keeps its heads up to the cut", async () => {
    const room = roomName('revoke');
    const [synod, lost, kept] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    const add = async (device: KeyPair, comparable: number, parent: Entry | null) =>
      synodEntry(synod, comparable, parent, {
        type: 'synod',
        op: 'add_device',
        device: device.identity,
        proof: await signMembership(device, synod.identity),
      });
    const s1 = await add(lost, 1, null);
    const s2 = await add(kept, 2, s1);
    const revoke = await synodEntry(synod, 3, s2, { type: 'synod', op: 'revoke_device', device: lost.identity, cut: 50 });
    const later = await synodEntry(synod, 4, revoke, { type: 'identification', name: 'Us' });

    const l = await join(room, { keys: lost });
    const k = await join(room, { keys: kept });
    const l100 = await post(lost, 100, [synod.identity, s2.hash]);
    expect(await announce(l, l100)).toBe('ok');
    // Positive control: before the room hears of the revocation, the head is tracked.
    expect(await heads(k, [lost.identity])).toEqual([[lost.identity, l100.hash]]);

    // The kept device claims the synod, then shows the room the synod's newer head, then the older revocation.
    expect(await announce(k, await post(kept, 100, [synod.identity, later.hash]))).toBe('ok');
    expect(await announce(k, later)).toBe('ok');
    expect(await announce(k, revoke)).toMatch(/^rollback/); // not the newest synod entry, but news all the same
    expect(await heads(k, [lost.identity])).toEqual([]);

    // Later heads are refused, whatever synod they claim (none, here).
    expect(await announce(l, await post(lost, 101, [synod.identity, s2.hash], l100.hash))).toMatch(/^bad_entry: revoked/);
    expect(await announce(l, await post(lost, 102, null, l100.hash))).toMatch(/^bad_entry: revoked/);
    // Up to the cut its entries stand.
    const early = await post(lost, 40, [synod.identity, s1.hash]);
    expect(await announce(l, early)).toBe('ok');
    expect(await heads(k, [lost.identity])).toEqual([[lost.identity, early.hash]]);
    await leaveAll([l, k]);
  });

  it('learns a revocation from a synod feed leased here, though nobody announced it', async () => {
    const room = roomName('revoke-lease');
    const [synod, lost] = [await generateKeyPair(), await generateKeyPair()];
    const s1 = await synodEntry(synod, 1, null, {
      type: 'synod',
      op: 'add_device',
      device: lost.identity,
      proof: await signMembership(lost, synod.identity),
    });
    const s2 = await synodEntry(synod, 2, s1, { type: 'synod', op: 'revoke_device', device: lost.identity, cut: 10 });
    const s3 = await synodEntry(synod, 3, s2, { type: 'identification', name: 'Us' });
    const l = await join(room, { keys: lost, request: ['datalease'] });
    const l20 = await post(lost, 20, [synod.identity, s1.hash]);
    expect(await announce(l, l20)).toBe('ok');
    // The device also leases its own feed here: after the revocation neither the tracked nor the leased head may be served.
    serveFeed(l, [l20]);
    l.client.send({ type: 'call', id: 'own', service: 'datalease', identity: lost.identity, head: l20.hash, seconds: 600 });
    expect((await l.client.answer('own', 15_000)).type).toBe('lease');
    expect(await heads(l, [lost.identity])).toEqual([[lost.identity, l20.hash]]);

    const s = await join(room, { keys: synod, request: ['datalease'] });
    serveFeed(s, [s1, s2, s3]);
    s.client.send({ type: 'call', id: 'lease', service: 'datalease', identity: synod.identity, head: s3.hash, seconds: 600 });
    expect((await s.client.answer('lease', 15_000)).type).toBe('lease');
    expect(await heads(l, [lost.identity])).toEqual([]);
    expect(await announce(l, await post(lost, 21, [synod.identity, s1.hash], l20.hash))).toMatch(/^bad_entry: revoked/);
    await leaveAll([l, s]);
  });

  it("a synod the device never claimed cannot revoke it (positive control: the device's own synod can)", async () => {
    const room = roomName('revoke-foreign');
    const [victim, rogue, rogueDevice] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    const v = await join(room, { keys: victim });
    const r = await join(room, { keys: rogueDevice });
    const head = await post(victim, 100, null);
    expect(await announce(v, head)).toBe('ok');
    const rogueRevoke = await synodEntry(rogue, 1, null, { type: 'synod', op: 'revoke_device', device: victim.identity, cut: 0 });
    expect(await announce(r, await post(rogueDevice, 1, [rogue.identity, rogueRevoke.hash]))).toBe('ok');
    expect(await announce(r, rogueRevoke)).toBe('ok');
    expect(await heads(r, [victim.identity])).toEqual([[victim.identity, head.hash]]);
    expect(await announce(v, await post(victim, 101, null, head.hash))).toBe('ok');

    // Once the victim itself claims the rogue synod, that synod's cut binds it.
    expect(await announce(v, await post(victim, 102, [rogue.identity, rogueRevoke.hash]))).toMatch(/^bad_entry: revoked/);
    await leaveAll([v, r]);
  });
});
