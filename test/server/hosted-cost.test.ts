/**
 * Issue 14, attack 6 (hosted part): D1 is shared by every room, so what a
 * room reads from hosted storage is batched — one round trip for a
 * get_heads of 512 identities, one for an iwant of 512 hashes — and each
 * call reports its cost (D1 round trips and rows read) for the room to
 * weight requests by.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, hashOf, utf8, type Hash, type Identity } from '../../src/protocol/index.ts';
import type { Env } from '../../src/server/env.ts';
import { hostedStorage } from '../../src/server/hosted/serve.ts';
import type { HostedCost } from '../../src/server/room/storage.ts';

/** env with a DB that counts its round trips (each all/first/run/raw, and each batch, is one). */
function counting(): { env: Env; trips: () => number } {
  let trips = 0;
  const wrapStatement = (s: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(s, {
      get(target, key) {
        if (key === 'bind') return (...args: unknown[]) => wrapStatement(target.bind(...args));
        if (key === 'all' || key === 'first' || key === 'run' || key === 'raw') {
          return (...args: unknown[]) => {
            trips++;
            return (Reflect.get(target, key) as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const v = Reflect.get(target, key);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  const db = new Proxy(env.DB, {
    get(target, key) {
      if (key === 'prepare') return (sql: string) => wrapStatement(target.prepare(sql));
      if (key === 'batch')
        return (statements: D1PreparedStatement[]) => {
          trips++;
          return target.batch(statements.map((s) => (s as unknown as { __target?: D1PreparedStatement }).__target ?? s));
        };
      const v = Reflect.get(target, key);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { env: { ...env, DB: db } as Env, trips: () => trips };
}

describe('hosted lookups are batched and priced', () => {
  it('get_heads of 512 identities is one D1 round trip, and says what it cost', async () => {
    const ids: Identity[] = [];
    for (let i = 0; i < 512; i++) ids.push((await generateKeyPair()).identity);
    const leased = ids[7]!;
    const now = Date.now();
    await env.DB.prepare(
      'INSERT INTO leases (identity, head, comparable, entries, bytes, holder, created_at, renewed_at, expires_at) VALUES (?, ?, 5, 1, 1, ?, ?, ?, ?)',
    )
      .bind(leased, hashOf(utf8(`head ${leased}`)), leased, now, now, now + 1e6)
      .run();
    const { env: counted, trips } = counting();
    const cost: HostedCost = { queries: 0, rows: 0 };
    const heads = await hostedStorage(counted).leasedHeads(ids, cost);
    expect([...heads.keys()]).toEqual([leased]);
    expect(trips()).toBe(1);
    expect(cost.queries).toBe(1);
    expect(cost.rows).toBeGreaterThan(0);
  });

  it('iwant of 512 hashes is one D1 round trip', async () => {
    const hashes: Hash[] = Array.from({ length: 512 }, (_, i) => hashOf(utf8(`wanted ${i} ${Math.random()}`)));
    const { env: counted, trips } = counting();
    const cost: HostedCost = { queries: 0, rows: 0 };
    expect((await hostedStorage(counted).sizes(hashes, cost)).size).toBe(0);
    expect(trips()).toBe(1);
    expect(cost.queries).toBe(1);
  });
});
