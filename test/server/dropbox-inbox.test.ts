/**
 * Issue 14, attacks 3 and 9: throwaway keys cannot fill someone's inbox
 * (limits per sender per target and per client address), people the target
 * follows still get through a full inbox, the target clears its inbox in one
 * call, and refusals name no one else's data.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type Entry, type Identity } from '../../src/protocol/index.ts';
import { HOSTED_LIMITS } from '../../src/server/hosted/limits.ts';
import type { Session } from '../support/room-client.ts';
import { chainOf, count, serveFeed } from './hosted-helpers.ts';
import { ask, drop, fillDrops, makeDrop, rowsFor } from './dropbox-helpers.ts';
import { join, leaveAll, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

/** Drops `n` fresh entries from `s` for `target`; answers how many the room took. */
async function dropMany(s: Session, target: Identity, n: number): Promise<number> {
  let taken = 0;
  for (let i = 0; i < n; i++) {
    const answer = await drop(s, target, await makeDrop(s.keys, [target], `spam ${i}`, i + 1));
    if (answer.type === 'ok') taken++;
    else expect(answer).toMatchObject({ type: 'error', code: 'quota' });
  }
  return taken;
}

const someone = async () => (await generateKeyPair()).identity;
const fromIp = (ip: string) => count('SELECT COUNT(*) AS n FROM drops WHERE ip = ?', ip);

describe('inbox filling', { timeout: 120_000 }, () => {
  it('two throwaway keys cannot fill a target: at most dropsPerSenderPerTarget each', async () => {
    const room = roomName('fill-two');
    const target = (await generateKeyPair()).identity;
    const ip = '198.51.100.7';
    const [a, b] = [await join(room, { ip }), await join(room, { ip })];
    const taken = [await dropMany(a, target, 100), await dropMany(b, target, 100)];
    expect(taken).toEqual([HOSTED_LIMITS.dropsPerSenderPerTarget, HOSTED_LIMITS.dropsPerSenderPerTarget]);
    expect(await rowsFor(target)).toBe(2 * HOSTED_LIMITS.dropsPerSenderPerTarget);
    await leaveAll([a, b]);
  });

  it('many keys from one address stop at dropsPerIpPerTarget; another address still gets through', async () => {
    const room = roomName('fill-many');
    const target = (await generateKeyPair()).identity;
    const keys = Math.ceil(HOSTED_LIMITS.dropsPerIpPerTarget / HOSTED_LIMITS.dropsPerSenderPerTarget) + 1;
    let taken = 0;
    for (let i = 0; i < keys; i++) {
      // Addresses in one IPv6 /64 count as one.
      const s = await join(room, { ip: `2001:db8:7:7::${(i + 1).toString(16)}` });
      taken += await dropMany(s, target, HOSTED_LIMITS.dropsPerSenderPerTarget);
      await leaveAll([s]);
    }
    expect(taken).toBe(HOSTED_LIMITS.dropsPerIpPerTarget);
    expect(await fromIp('2001:db8:7:7::/64')).toBe(HOSTED_LIMITS.dropsPerIpPerTarget);
    const elsewhere = await join(room, { ip: '203.0.113.9' });
    expect(await dropMany(elsewhere, target, 1)).toBe(1);
    await leaveAll([elsewhere]);
  });

  it('one address has at most DROPS_PER_IP drops waiting, whatever the targets', async () => {
    const room = roomName('fill-ip');
    const ip = '192.0.2.44';
    await fillDrops(await someone(), await someone(), Number(env.DROPS_PER_IP), 1, ip);
    const s = await join(room, { ip });
    const target = (await generateKeyPair()).identity;
    expect(await dropMany(s, target, 1)).toBe(0);
    const other = await join(room, { ip: '192.0.2.45' });
    expect(await dropMany(other, target, 1)).toBe(1);
    await leaveAll([s, other]);
  });

  it("lets the target's friends through a full inbox, and nobody else", async () => {
    const room = roomName('fill-friend');
    const targetKeys = await generateKeyPair();
    const friendKeys = await generateKeyPair();
    // The target's feed follows the friend, and the target leases it here.
    const feed = await chainOf(targetKeys, 3, {
      payloadOf: (i) => (i === 1 ? { type: 'follow', identity: friendKeys.identity } : { type: 'public_note', text: `n${i}` }),
    });
    const t = await join(room, { keys: targetKeys });
    serveFeed(t, feed);
    expect(
      (await ask(t, { type: 'call', service: 'datalease', identity: targetKeys.identity, head: feed.at(-1)!.hash, seconds: 3600 }, 15_000))
        .type,
    ).not.toBe('error');
    await leaveAll([t]);
    await fillDrops(targetKeys.identity, await someone(), HOSTED_LIMITS.dropsPerTarget);

    const stranger = await join(room);
    const refused = await drop(stranger, targetKeys.identity, await makeDrop(stranger.keys, [targetKeys.identity]));
    expect(refused).toMatchObject({ type: 'error', code: 'quota' });
    const friend = await join(room, { keys: friendKeys });
    expect((await drop(friend, targetKeys.identity, await makeDrop(friendKeys, [targetKeys.identity], 'it is me'))).type).toBe('ok');
    await leaveAll([stranger, friend]);
  });

  it('the target clears its whole inbox in one call (drop_clear)', async () => {
    const room = roomName('fill-clear');
    const targetKeys = await generateKeyPair();
    await fillDrops(targetKeys.identity, await someone(), HOSTED_LIMITS.dropsPerTarget);
    const t = await join(room, { keys: targetKeys });
    const notices = [...(await t.client.next('drops')).drops];
    const through = Math.max(...notices.map((d) => d.expires));
    expect(await ask(t, { type: 'drop_clear', target: targetKeys.identity, through })).toMatchObject({ type: 'ok' });
    expect(await rowsFor(targetKeys.identity)).toBe(0);
    // Nobody else may clear it.
    await fillDrops(targetKeys.identity, await someone(), 3);
    const other = await join(room);
    expect(await ask(other, { type: 'drop_clear', target: targetKeys.identity, through: Date.now() + 1e12 })).toMatchObject({
      type: 'error',
      code: 'forbidden',
    });
    expect(await rowsFor(targetKeys.identity)).toBe(3);
    await leaveAll([t, other]);
  });
});

describe('refusals name no one else', { timeout: 30_000 }, () => {
  it("a quota refusal does not say how many drops wait for the target, nor who holds an entry's drop", async () => {
    const room = roomName('leak');
    const target = (await generateKeyPair()).identity;
    await fillDrops(target, await someone(), HOSTED_LIMITS.dropsPerTarget);
    const s = await join(room);
    const refused = await drop(s, target, await makeDrop(s.keys, [target]));
    expect(refused).toMatchObject({ type: 'error', code: 'quota' });
    const text = refused.type === 'error' ? refused.message : '';
    expect(text).not.toContain(target);
    expect(text).not.toContain(String(HOSTED_LIMITS.dropsPerTarget));

    const first = (await generateKeyPair()).identity;
    const entry: Entry = await makeDrop(s.keys, [first]);
    expect((await drop(s, first, entry)).type).toBe('ok');
    const again = await drop(s, (await generateKeyPair()).identity, entry);
    expect(again).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(again.type === 'error' ? again.message : '').not.toContain(first);
    await leaveAll([s]);
  });
});
