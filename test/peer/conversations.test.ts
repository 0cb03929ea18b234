/** Conversations between people who replicate each other: one feed copy, a "to" line, threads, replies both ways. */
import { describe, expect, it } from 'vitest';
import { threadsOf } from '../../src/peer/conversations.ts';
import type { Peer } from '../../src/peer/peer.ts';
import { eventually, link, newPeer } from './helpers.ts';

async function person(name: string): Promise<Peer> {
  const p = await newPeer();
  await p.createSynod({ name }, undefined, `${name}'s phone`);
  return p;
}

describe('conversations', { timeout: 20_000 }, () => {
  it('a message to a follower goes by the feed, with a "to" line and a copy for the sender; replies join the thread', async () => {
    const [ada, bo] = await Promise.all([person('Ada'), person('Bo')]);
    await ada.follow(bo.synodIdentity!);
    await bo.follow(ada.synodIdentity!);
    await link(ada, bo);
    await eventually(() => ada.followsMe(bo.synodIdentity!), 5000, 'ada to see that bo follows her');
    await eventually(() => bo.followsMe(ada.synodIdentity!), 5000, 'bo to see that ada follows him');

    const sent = await ada.sendMessage([bo.synodIdentity!], 'Lunch tomorrow?');
    // Bo follows Ada: the feed carries it, no dropbox needed.
    expect(sent.dropped).toEqual([]);
    expect(sent.note).not.toBeNull();
    const mine = (await ada.messages()).find((m) => m.id === sent.id);
    expect(mine).toMatchObject({ from: ada.synodIdentity, to: [bo.synodIdentity], text: 'Lunch tomorrow?', via: 'feed' });

    await eventually(async () => (await bo.messages()).some((m) => m.id === sent.id), 5000, 'bo to read it');
    const got = (await bo.messages()).find((m) => m.id === sent.id)!;
    expect(got).toMatchObject({ from: ada.synodIdentity, author: ada.identity, to: [bo.synodIdentity], plain: false });

    const reply = await bo.sendMessage([ada.synodIdentity!], 'Yes, at noon.');
    await eventually(async () => (await ada.messages()).some((m) => m.id === reply.id), 5000, 'ada to read the reply');
    const threads = threadsOf(await ada.messages(), ada.synodIdentity!);
    expect(threads).toHaveLength(1);
    expect(threads[0]!.people).toEqual([bo.synodIdentity]);
    expect(threads[0]!.messages.map((m) => m.text)).toEqual(['Lunch tomorrow?', 'Yes, at noon.']);
  });

  it('a group message is one thread for each member, apart from one-to-one threads', async () => {
    const [ada, bo, cy] = await Promise.all([person('Ada'), person('Bo'), person('Cy')]);
    for (const [a, b] of [
      [ada, bo],
      [ada, cy],
      [bo, cy],
    ] as const) {
      await a.follow(b.synodIdentity!);
      await b.follow(a.synodIdentity!);
      await link(a, b);
    }
    await eventually(async () => (await ada.followsMe(bo.synodIdentity!)) && ada.followsMe(cy.synodIdentity!), 5000, 'follows');
    const group = await ada.sendMessage([bo.synodIdentity!, cy.synodIdentity!], 'Hello both');
    await ada.sendMessage([bo.synodIdentity!], 'Just you');
    await eventually(async () => (await cy.messages()).some((m) => m.id === group.id), 5000, 'cy to read the group message');
    const forCy = threadsOf(await cy.messages(), cy.synodIdentity!);
    expect(forCy.map((t) => [...t.people].sort())).toEqual([[ada.synodIdentity, bo.synodIdentity].sort()]);
    await eventually(async () => threadsOf(await bo.messages(), bo.synodIdentity!).length === 2, 5000, "bo's two threads");
  });

  it('refuses an empty message, no recipient, or only oneself', async () => {
    const ada = await person('Ada');
    await expect(ada.sendMessage([], 'hi')).rejects.toThrow(/whom/);
    await expect(ada.sendMessage([ada.synodIdentity!], 'hi')).rejects.toThrow(/whom/);
    const other = await person('Bo');
    await expect(ada.sendMessage([other.synodIdentity!], '   ')).rejects.toThrow(/write something/);
    await expect(ada.sendMessage([other.synodIdentity!], 'x'.repeat(4001))).rejects.toThrow(/at most 4000/);
  });
});

describe('devices', () => {
  it('names the first device at creation, and renames a device', async () => {
    const ada = await person('Ada');
    expect(ada.synodState()?.devices.get(ada.identity)?.name).toBe("Ada's phone");
    await ada.renameDevice(ada.identity, 'Kitchen tablet');
    expect(ada.synodState()?.devices.get(ada.identity)?.name).toBe('Kitchen tablet');
    const stranger = await newPeer();
    await expect(ada.renameDevice(stranger.identity, 'x')).rejects.toThrow(/not an active member/);
  });
});

describe('looking someone up, then following', () => {
  it('following an account already fetched for its profile widens to its devices at once', async () => {
    const [ada, bo] = await Promise.all([person('Ada'), person('Bo')]);
    const note = await ada.postNote('from a device of Ada');
    await link(ada, bo);
    await bo.lookUp(ada.synodIdentity!);
    await eventually(() => bo.synodState(ada.synodIdentity)?.profile.name === 'Ada', 5000, "Ada's profile");
    // Only the account feed: looking up does not fetch the devices' posts.
    expect(bo.replica.isWatched(ada.identity)).toBe(false);
    await bo.follow(ada.synodIdentity!);
    await eventually(async () => (await bo.replica.head(ada.identity))?.hash === note.hash, 5000, "Ada's device feed");
  });
});
