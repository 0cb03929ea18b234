/**
 * Issue 14, attack 7 (server-wide): drops and leases are budgeted for the
 * whole server from `usage_totals`, which stores raise and the scheduled
 * cleanup recounts exactly. (Blobs: test/server/blobs-abuse.test.ts.) Each
 * test file has its own D1 here, so setting the totals touches no other file.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/protocol/index.ts';
import { cleanup } from '../../src/server/hosted/cleanup.ts';
import { chainOf, count, serveFeed } from './hosted-helpers.ts';
import { ask, drop, makeDrop } from './dropbox-helpers.ts';
import { join, leaveAll, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

const total = async (scope: string) =>
  (await env.DB.prepare('SELECT bytes FROM usage_totals WHERE scope = ?').bind(scope).first<{ bytes: number }>())?.bytes ?? NaN;
const setTotal = (scope: string, bytes: number) =>
  env.DB.prepare('UPDATE usage_totals SET bytes = ? WHERE scope = ?').bind(bytes, scope).run();

describe('server-wide budgets', { timeout: 30_000 }, () => {
  it('a stored drop raises the server total; a full server refuses the next one', async () => {
    const room = roomName('server-drops');
    const s = await join(room);
    const target = (await generateKeyPair()).identity;
    const before = await total('drops');
    const first = await makeDrop(s.keys, [target], 'counted');
    expect((await drop(s, target, first)).type).toBe('ok');
    expect(await total('drops')).toBe(before + first.size);

    await setTotal('drops', Number(env.DROP_BYTES_TOTAL));
    const refused = await drop(s, target, await makeDrop(s.keys, [target], 'one too many'));
    expect(refused).toMatchObject({ type: 'error', code: 'quota' });
    expect(refused.type === 'error' && refused.message).toContain("this server's dropbox is full");
    await leaveAll([s]);
  });

  it('a committed lease raises the server total; a full server refuses the next one', async () => {
    await setTotal('leases', 0);
    const room = roomName('server-leases');
    const keys = await generateKeyPair();
    const chain = await chainOf(keys, 4);
    const s = await join(room, { keys });
    serveFeed(s, chain);
    const call = { type: 'call', service: 'datalease', identity: keys.identity, head: chain.at(-1)!.hash, seconds: 3600 };
    expect((await ask(s, call, 15_000)).type).toBe('lease');
    expect(await total('leases')).toBe(chain.reduce((n, e) => n + e.size, 0));

    await setTotal('leases', Number(env.LEASE_BYTES_TOTAL));
    const other = await generateKeyPair();
    const otherChain = await chainOf(other, 2);
    const o = await join(room, { keys: other });
    serveFeed(o, otherChain);
    const refused = await ask(o, { ...call, identity: other.identity, head: otherChain.at(-1)!.hash }, 15_000);
    expect(refused).toMatchObject({ type: 'error', code: 'quota' });
    expect(refused.type === 'error' && refused.message).toContain("this server's lease storage is full");
    await leaveAll([s, o]);
  });

  it('the cleanup recounts the totals from the tables', async () => {
    await setTotal('drops', 999_999_999);
    await setTotal('blobs', 999_999_999);
    await setTotal('leases', 999_999_999);
    await cleanup(env);
    const now = Date.now();
    expect(await total('drops')).toBe(await count('SELECT COALESCE(SUM(size), 0) AS n FROM drops WHERE expires_at > ?', now));
    expect(await total('blobs')).toBe(await count('SELECT COALESCE(SUM(size), 0) AS n FROM blobs'));
    expect(await total('leases')).toBe(await count('SELECT COALESCE(SUM(bytes), 0) AS n FROM leases WHERE expires_at > ?', now));
    expect(await total('drops')).toBeGreaterThan(0);
  });
});
