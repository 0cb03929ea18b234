/**
 * Issue 14, attacks 2 and 4: a synod's drops go to its devices only, proven
 * by the synod's own signed add_device (in a chain the room pulls from the
 * device, or in the synod's leased feed), never to someone who merely claims
 * the synod; and a drop's sender is the session or a device of its synod.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createEntry, generateKeyPair } from '../../src/protocol/index.ts';
import { serveFeed } from './hosted-helpers.ts';
import { announce, ask, claiming, drop, makeDrop, rowsFor, synodFeed } from './dropbox-helpers.ts';
import { join, leaveAll, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

describe('synod drops: membership is proven, never claimed', { timeout: 30_000 }, () => {
  it('a stranger who claims a synod is told of none of its drops, fetches none and deletes none', async () => {
    const room = roomName('claim-thief');
    const synod = await generateKeyPair();
    const device = await generateKeyPair();
    const chain = await synodFeed(synod, [device]);
    const sender = await join(room);
    const entry = await makeDrop(sender.keys, [synod.identity, device.identity]);
    expect((await drop(sender, synod.identity, entry)).type).toBe('ok');

    // The thief signs an entry naming the synod at its real head (public), and serves the synod's public feed too.
    const thief = await generateKeyPair();
    const t1 = await join(room, { keys: thief });
    expect((await announce(t1, await claiming(thief, synod.identity, chain.at(-1)!.hash))).type).toBe('ok');
    await leaveAll([t1]);
    const t2 = await join(room, { keys: thief });
    serveFeed(t2, chain);
    t2.client.send({ type: 'fetch_drops', id: 'tf', hashes: [entry.hash] });
    const delivered = await t2.client.next('drop_delivery', (m) => m.re === 'tf');
    t2.client.send({ type: 'drop_ack', id: 'ta', hashes: [entry.hash] });
    await t2.client.next('ok', (m) => m.re === 'ta');
    expect(delivered.drops).toEqual([]);
    expect(t2.client.inbox.filter((m) => m.type === 'drops')).toEqual([]);
    expect(await rowsFor(synod.identity)).toBe(1);

    // Positive control: the real device, serving the same chain, collects and acknowledges it.
    const d1 = await join(room, { keys: device });
    expect((await announce(d1, await claiming(device, synod.identity, chain.at(-1)!.hash))).type).toBe('ok');
    await leaveAll([d1]);
    const d2 = await join(room, { keys: device });
    serveFeed(d2, chain);
    expect((await d2.client.next('drops', undefined, 10_000)).drops.map((d) => d.hash)).toEqual([entry.hash]);
    d2.client.send({ type: 'fetch_drops', id: 'df', hashes: [entry.hash] });
    expect((await d2.client.next('drop_delivery', (m) => m.re === 'df')).drops.map((d) => d.hash)).toEqual([entry.hash]);
    d2.client.send({ type: 'drop_ack', id: 'da', hashes: [entry.hash] });
    await d2.client.next('ok', (m) => m.re === 'da');
    expect(await rowsFor(synod.identity)).toBe(0);
    await leaveAll([sender, t2, d2]);
  });

  it('a device the synod revoked collects nothing once the room knows the revocation', async () => {
    const room = roomName('claim-revoked');
    const synod = await generateKeyPair();
    const [kept, lost] = [await generateKeyPair(), await generateKeyPair()];
    const added = await synodFeed(synod, [kept, lost]);
    const chain = [
      ...added,
      await createEntry(synod, {
        parent: added.at(-1)!.hash,
        comparable: added.length + 1,
        synod: null,
        payload: { type: 'synod', op: 'revoke_device', device: lost.identity, cut: 1 },
      }),
    ];
    const sender = await join(room);
    const entry = await makeDrop(sender.keys, [synod.identity, kept.identity]);
    expect((await drop(sender, synod.identity, entry)).type).toBe('ok');

    // The kept device tells the room the synod's newest head (the revocation).
    const k = await join(room, { keys: kept });
    expect((await announce(k, await claiming(kept, synod.identity, chain.at(-1)!.hash))).type).toBe('ok');
    expect((await announce(k, chain.at(-1)!)).type).toBe('ok');

    // The lost device still claims the synod at the head before its revocation, and serves that older chain.
    const l1 = await join(room, { keys: lost });
    expect((await announce(l1, await claiming(lost, synod.identity, added.at(-1)!.hash))).type).toBe('ok');
    await leaveAll([l1]);
    const l2 = await join(room, { keys: lost });
    serveFeed(l2, added);
    l2.client.send({ type: 'fetch_drops', id: 'lf', hashes: [entry.hash] });
    expect((await l2.client.next('drop_delivery', (m) => m.re === 'lf')).drops).toEqual([]);
    l2.client.send({ type: 'drop_ack', id: 'la', hashes: [entry.hash] });
    await l2.client.next('ok', (m) => m.re === 'la');
    expect(await rowsFor(synod.identity)).toBe(1);
    await leaveAll([sender, k, l2]);
  });
});

describe('synod drops with the synod leased here', { timeout: 30_000 }, () => {
  it('the lease decides: a revoked device showing an older chain gets nothing, an admitted one needs to show nothing', async () => {
    const room = roomName('claim-leased');
    const synod = await generateKeyPair();
    const [kept, lost] = [await generateKeyPair(), await generateKeyPair()];
    const added = await synodFeed(synod, [kept, lost]);
    const revoked = await createEntry(synod, {
      parent: added.at(-1)!.hash,
      comparable: added.length + 1,
      synod: null,
      payload: { type: 'synod', op: 'revoke_device', device: lost.identity, cut: 1 },
    });
    // The synod leases its feed here (in another room: leases are the deployment's).
    const ss = await join(roomName('claim-leased-synod'), { keys: synod });
    serveFeed(ss, [...added, revoked]);
    expect(
      (await ask(ss, { type: 'call', service: 'datalease', identity: synod.identity, head: revoked.hash, seconds: 3600 }, 15_000)).type,
    ).toBe('lease');
    await leaveAll([ss]);

    const sender = await join(room);
    const entry = await makeDrop(sender.keys, [synod.identity, kept.identity]);
    expect((await drop(sender, synod.identity, entry)).type).toBe('ok');

    for (const [keys, head] of [
      [lost, added.at(-1)!],
      [kept, revoked],
    ] as const) {
      const first = await join(room, { keys });
      expect((await announce(first, await claiming(keys, synod.identity, head.hash))).type).toBe('ok');
      await leaveAll([first]);
    }
    const l = await join(room, { keys: lost });
    serveFeed(l, added);
    l.client.send({ type: 'fetch_drops', id: 'lf', hashes: [entry.hash] });
    expect((await l.client.next('drop_delivery', (m) => m.re === 'lf')).drops).toEqual([]);
    expect(await rowsFor(synod.identity)).toBe(1);
    // The lease's head (the revocation) ranks above the chain the lost device shows: the lease decides.

    const k = await join(room, { keys: kept });
    expect((await k.client.next('drops', undefined, 10_000)).drops.map((d) => d.hash)).toEqual([entry.hash]);
    await leaveAll([sender, l, k]);
  });
});

describe("a drop's sender", { timeout: 30_000 }, () => {
  it("is the session or a device of its synod: re-dropping someone's public entries does not spend their quota", async () => {
    const room = roomName('sender-grief');
    const victim = await generateKeyPair();
    const griefer = await join(room);
    const target = (await generateKeyPair()).identity;
    // The victim's public entries, signed by the victim (anyone may have copies).
    const entries = await Promise.all(Array.from({ length: 3 }, (_, i) => makeDrop(victim, [target], `public ${i}`, i + 1)));
    for (const e of entries) {
      const answer = await drop(griefer, target, e, victim.identity);
      expect(answer).toMatchObject({ type: 'error', code: 'forbidden' });
    }
    expect(await rowsFor(target)).toBe(0);

    // Positive control: the victim's own session drops the same entry.
    const own = await join(room, { keys: victim });
    expect((await drop(own, target, entries[0]!)).type).toBe('ok');
    await leaveAll([griefer, own]);
  });

  it("may be the session's synod when the session proved it is the synod's device", async () => {
    const room = roomName('sender-synod');
    const synod = await generateKeyPair();
    const device = await generateKeyPair();
    const chain = await synodFeed(synod, [device]);
    const target = (await generateKeyPair()).identity;
    const d1 = await join(room, { keys: device });
    expect((await announce(d1, await claiming(device, synod.identity, chain.at(-1)!.hash))).type).toBe('ok');
    await leaveAll([d1]);
    const d2 = await join(room, { keys: device });
    serveFeed(d2, chain);
    const bySynod = await makeDrop(synod, [target], 'from the account');
    expect((await drop(d2, target, bySynod)).type).toBe('ok');
    await leaveAll([d2]);
  });
});
