/**
 * Issue 14, attack 7 (leases): lease terms are the operator's settings
 * (LEASE_MAX_SECONDS, LEASE_MAX_BYTES, LEASES_PER_HOLDER in wrangler.toml),
 * and leased bytes are budgeted per client address and for the server.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, hashOf, utf8 } from '../../src/protocol/index.ts';
import { chainOf, serveFeed } from './hosted-helpers.ts';
import { ask } from './dropbox-helpers.ts';
import { join, leaveAll, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

const DAY = 24 * 3600;

/** A session that serves its own 3-entry feed and asks to lease it. */
async function lease(room: string, seconds: number, ip?: string) {
  const keys = await generateKeyPair();
  const chain = await chainOf(keys, 3);
  const s = await join(room, { keys, ...(ip && { ip }) });
  serveFeed(s, chain);
  const answer = await ask(s, { type: 'call', service: 'datalease', identity: keys.identity, head: chain.at(-1)!.hash, seconds }, 15_000);
  return { s, keys, answer };
}

function fillLeases(holder: string, n: number, bytes = 1, ip?: string) {
  const now = Date.now();
  const columns = `identity, head, comparable, entries, bytes, holder, created_at, renewed_at, expires_at${ip === undefined ? '' : ', ip'}`;
  return env.DB.batch(
    Array.from({ length: n }, (_, i) =>
      env.DB.prepare(`INSERT INTO leases (${columns}) VALUES (?, ?, 1, 1, ?, ?, ?, ?, ?${ip === undefined ? '' : ', ?'})`).bind(
        `@filler-${i}-${Math.random()}`,
        hashOf(utf8(`${i} ${Math.random()}`)),
        bytes,
        holder,
        now,
        now,
        now + 1e9,
        ...(ip === undefined ? [] : [ip]),
      ),
    ),
  );
}

describe('lease terms are the operator’s', { timeout: 60_000 }, () => {
  it('a call for a year is granted at most LEASE_MAX_SECONDS, and says so in expires', async () => {
    const before = Date.now();
    const { s, answer } = await lease(roomName('term-long'), 366 * DAY);
    expect(answer.type).toBe('lease');
    const expires = answer.type === 'lease' ? answer.expires : 0;
    expect(expires).toBeLessThanOrEqual(Date.now() + Number(env.LEASE_MAX_SECONDS) * 1000);
    expect(expires).toBeGreaterThanOrEqual(before + Number(env.LEASE_MAX_SECONDS) * 1000);
    await leaveAll([s]);
  });

  it('one identity holds at most LEASES_PER_HOLDER leases', async () => {
    const room = roomName('term-holder');
    const keys = await generateKeyPair();
    await fillLeases(keys.identity, Number(env.LEASES_PER_HOLDER));
    const chain = await chainOf(keys, 2);
    const s = await join(room, { keys });
    serveFeed(s, chain);
    const answer = await ask(s, { type: 'call', service: 'datalease', identity: keys.identity, head: chain.at(-1)!.hash, seconds: 3600 });
    expect(answer).toMatchObject({ type: 'error', code: 'quota' });
    await leaveAll([s]);
  });

  it('leased bytes are budgeted per client address', async () => {
    const room = roomName('term-ip');
    const ip = '198.18.0.9';
    await fillLeases((await generateKeyPair()).identity, 1, Number(env.LEASE_BYTES_PER_IP), ip);
    const full = await lease(room, 3600, ip);
    expect(full.answer).toMatchObject({ type: 'error', code: 'quota' });
    const other = await lease(room, 3600, '198.18.0.10');
    expect(other.answer.type).toBe('lease');
    await leaveAll([full.s, other.s]);
  });
});
