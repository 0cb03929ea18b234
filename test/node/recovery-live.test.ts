/**
 * Recovery through friends with Node peers against the real Worker (wrangler
 * dev: rooms, the D1 dropbox). Ada splits her account among five friends
 * (three needed); her only device is lost; a fresh device asks all five. A
 * wrong code sends nothing; two releases are not enough; the third brings the
 * account back with its feed and follows, and the release is in the friend's
 * log. Re-splitting revokes the share of a friend left out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Peer } from '../../src/peer/peer.ts';
import { eventually, headOf } from '../peer/helpers.ts';
import { startLocalWorker, type LocalWorker } from '../support/local-worker.ts';
import { answer, circle, newWorld, peerIn, type World } from '../support/recovery-world.ts';

let worker: LocalWorker;
const worlds: World[] = [];

beforeAll(async () => {
  worker = await startLocalWorker();
}, 90_000);

afterAll(async () => {
  for (const w of worlds) for (const p of w.peers) p.close();
  await worker?.stop();
});

const world = (): World => {
  const w = newWorld(worker.url);
  worlds.push(w);
  return w;
};

describe('recovery through friends, live', { timeout: 240_000 }, () => {
  it('five friends keep shares; a wrong code sends nothing; two releases do not restore; the third does', async () => {
    const w = world();
    const { owner: ada, friends, head } = await circle(w, 'Ada', ['Bo', 'Cy', 'Di', 'Ed', 'Flo'], 3);
    const account = ada.synodIdentity!;
    const followed = friends.map((f) => f.synodIdentity!);
    const note = (await ada.feed(ada.identity, 100)).find((e) => e.body.payload.type === 'public_note')!;
    ada.close(); // every device of Ada's is gone

    const fresh = await peerIn(w);
    const asked = await fresh.recovery.ask(followed, 'Ada', { replyTo: [worker.url], deviceName: 'new phone' });
    expect(asked.asked.every((a) => a.request !== null && /^\d{6}$/.test(a.code))).toBe(true);
    const codeFor = (f: Peer) => asked.asked.find((a) => a.friend === f.synodIdentity)!.code;

    // A wrong code: refused, nothing sent, nothing logged.
    const [bo, cy, di] = friends as [Peer, Peer, Peer];
    await eventually(async () => (await bo.recovery.requests()).length === 1, 20_000, 'the request to reach Bo');
    const request = (await bo.recovery.requests())[0]!;
    expect(request.name).toBe('Ada');
    expect(request.candidates.map((c) => c.share.account)).toEqual([account]);
    const wrong = codeFor(bo) === '000000' ? '111111' : '000000';
    await expect(bo.recovery.release(request.hash, account, wrong)).rejects.toThrow(/not the code/);
    expect(await bo.recovery.log()).toHaveLength(0);

    // Two friends confirm: two shares arrive, and the account does not come back.
    await answer(bo, fresh.identity, account, codeFor(bo));
    await answer(cy, fresh.identity, account, codeFor(cy));
    await eventually(async () => (await fresh.recovery.progress()).released.length === 2, 20_000, 'two releases to arrive');
    expect((await fresh.recovery.progress()).threshold).toBe(3);
    expect(fresh.synodIdentity).toBeNull();
    expect(fresh.holdsSynodKey).toBe(false);

    // The third: the account comes back, with its feed and follows.
    const restored = fresh.recovery.events.once('restored');
    await answer(di, fresh.identity, account, codeFor(di));
    expect(await restored).toBe(account);
    expect(fresh.synodIdentity).toBe(account);
    expect(fresh.holdsSynodKey).toBe(true);
    expect(fresh.synodState()?.devices.get(fresh.identity)?.name).toBe('new phone');
    expect(fresh.synodState()?.profile.name).toBe('Ada');
    await eventually(async () => (await headOf(fresh, ada.identity)) === head, 30_000, "Ada's old device feed");
    expect((await fresh.feed(ada.identity, 100)).map((e) => e.hash)).toContain(note.hash);
    await eventually(
      () => followed.every((f) => fresh.watching().some((x) => x.identity === f && x.reasons.includes('follow'))),
      30_000,
      "Ada's follows",
    );
    // Each release is in that friend's log; the friends not asked to confirm logged nothing.
    for (const f of [bo, cy, di]) expect((await f.recovery.log()).map((r) => r.record.to)).toEqual([fresh.identity]);
    for (const f of friends.slice(3)) expect(await f.recovery.log()).toHaveLength(0);
    expect((await fresh.recovery.progress()).pending).toBeNull();
  });

  it('re-splitting revokes: a friend left out forgets the share, friends kept hold the new set', async () => {
    const w = world();
    const { owner: ada, friends } = await circle(w, 'Ada', ['Bo', 'Cy', 'Di'], 2);
    const before = (await friends[0]!.recovery.held())[0]!.share.set;
    const chosen = await ada.recovery.chooseFriends(
      friends.slice(1).map((f) => f.synodIdentity!),
      2,
    );
    expect(chosen.revoked).toEqual([friends[0]!.synodIdentity]);
    await eventually(async () => (await friends[0]!.recovery.held()).length === 0, 20_000, 'the left-out friend to forget');
    for (const f of friends.slice(1))
      await eventually(async () => (await f.recovery.held())[0]?.share.set === chosen.set, 20_000, 'the new share');
    expect(chosen.set).not.toBe(before);
    expect((await ada.recovery.currentSet())?.record).toMatchObject({ set: chosen.set, threshold: 2 });
  });
});
