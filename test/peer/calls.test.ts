import { describe, expect, it } from 'vitest';
import { asCallSignal, Calls } from '../../src/peer/calls.ts';
import { eventually, headOf, link, newPeer } from './helpers.ts';

describe('call signals', () => {
  it('parses what the room carries and nothing else', () => {
    expect(asCallSignal({ ch: 'call', id: 'x', op: 'offer', sdp: 'v=0', video: true })).toEqual({
      ch: 'call',
      id: 'x',
      op: 'offer',
      sdp: 'v=0',
      video: true,
    });
    expect(asCallSignal({ ch: 'call', id: 'x', op: 'answer', sdp: 'v=0' })).toEqual({ ch: 'call', id: 'x', op: 'answer', sdp: 'v=0' });
    expect(asCallSignal({ ch: 'call', id: 'x', op: 'ice', candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 } })).toEqual({
      ch: 'call',
      id: 'x',
      op: 'ice',
      candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 },
    });
    expect(asCallSignal({ ch: 'call', id: 'x', op: 'hangup', reason: 'r'.repeat(200) })).toEqual({
      ch: 'call',
      id: 'x',
      op: 'hangup',
      reason: 'r'.repeat(200),
    });
    for (const bad of [
      null,
      'call',
      { ch: 'rtc', id: 'x', op: 'offer', sdp: '' },
      { ch: 'call', op: 'offer', sdp: '' },
      { ch: 'call', id: 'x'.repeat(65), op: 'decline' },
      { ch: 'call', id: 'x', op: 'offer' },
      { ch: 'call', id: 'x', op: 'ice', candidate: {} },
      { ch: 'call', id: 'x', op: 'ring' },
      // Over the reason bound (LIMITS.reasonChars), and a member the schema does not list.
      { ch: 'call', id: 'x', op: 'hangup', reason: 'r'.repeat(201) },
      { ch: 'call', id: 'x', op: 'busy', extra: 1 },
    ]) {
      expect(asCallSignal(bad)).toBeNull();
    }
  });
});

describe('who may call', () => {
  it('rings only for a mutual follower on the list; anyone else is refused with a reason', async () => {
    const [alice, bob, carol] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    await alice.createSynod({ name: 'Alice' });
    await bob.createSynod({ name: 'Bob' });
    await carol.createSynod({ name: 'Carol' });
    await alice.follow(bob.synodIdentity!);
    await bob.follow(alice.synodIdentity!);
    await carol.follow(alice.synodIdentity!);
    const followed = await bob.postNote('after following');
    await carol.postNote('after following');
    await link(alice, bob);
    await link(alice, carol);
    await eventually(async () => (await headOf(alice, bob.identity)) === followed.hash, 5000, 'Alice to replicate Bob');
    const calls = new Calls(alice, { rtc: async () => ({ iceServers: [] }) });

    expect(await calls.refusal(bob.identity)).toBe('not on the list of who may call');
    await calls.setPermitted(bob.synodIdentity!, true);
    await calls.setPermitted(carol.synodIdentity!, true);
    expect(await calls.permitted()).toEqual([bob.synodIdentity, carol.synodIdentity]);
    expect(await calls.refusal(bob.identity)).toBeNull();
    // Carol follows Alice, Alice does not follow Carol.
    expect(await calls.refusal(carol.identity)).not.toBeNull();
    // Alice follows Dave, who does not follow her.
    const dave = await newPeer();
    await dave.createSynod({ name: 'Dave' });
    const daveNote = await dave.postNote('hi');
    await alice.follow(dave.synodIdentity!);
    await calls.setPermitted(dave.synodIdentity!, true);
    await link(alice, dave);
    await eventually(async () => (await headOf(alice, dave.identity)) === daveNote.hash, 5000, 'Alice to replicate Dave');
    expect(await calls.refusal(dave.identity)).toBe('they do not follow us');
    await calls.setPermitted(bob.synodIdentity!, false);
    expect(await calls.refusal(bob.identity)).toBe('not on the list of who may call');
  });
});
