/**
 * Issue 14, attack 8: a signed request is good for one use (docs/protocol.md
 * §15.3: its signature is remembered for the window), a time far in the
 * future is refused, and TURN credentials are minted at a bounded rate per
 * identity and per client address, for a short lifetime.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, hashOf, signRequest, utf8, type KeyPair } from '../../src/protocol/index.ts';
import type { Env } from '../../src/server/env.ts';
import worker from '../../src/server/index.ts';
import { blobUrl, errorOf } from './hosted-helpers.ts';

const TURN = {
  TURN_URLS: 'turn:127.0.0.1:3478?transport=udp',
  TURN_SECRET: 'a-shared-secret-for-coturn-tests',
};

async function fetchWith(request: Request, vars: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, { ...env, ...TURN, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const turnRequest = (headers: Record<string, string>, ip = '192.0.2.10') =>
  new Request('https://effigy.test/api/turn', { headers: { ...headers, 'CF-Connecting-IP': ip } });

const signTurn = (keys: KeyPair, time = Date.now()) => signRequest(keys, { method: 'GET', path: '/api/turn', time, length: 0 });

describe('a signed request is good once', { timeout: 30_000 }, () => {
  it('TURN: the same signed request a second time is refused (401 replayed)', async () => {
    const keys = await generateKeyPair();
    const headers = await signTurn(keys);
    expect((await fetchWith(turnRequest(headers))).status).toBe(200);
    const again = await fetchWith(turnRequest(headers, '198.51.100.99'));
    expect(again.status).toBe(401);
    expect((await errorOf(again)).code).toBe('replayed');
    // A fresh signature (another time) is a new request.
    expect((await fetchWith(turnRequest(await signTurn(keys, Date.now() + 1)))).status).toBe(200);
  });

  it('uploads: a replayed PUT is refused, even of a blob that is stored', async () => {
    const keys = await generateKeyPair();
    const bytes = utf8(`once ${Math.random()}`);
    const hash = hashOf(bytes);
    const headers = await signRequest(keys, { method: 'PUT', path: `/api/blobs/${hash}`, time: Date.now(), length: bytes.length });
    const put = () =>
      fetchWith(
        new Request(blobUrl(hash), {
          method: 'PUT',
          body: bytes as Uint8Array<ArrayBuffer>,
          headers: { ...headers, 'Content-Length': String(bytes.length) },
        }),
      );
    expect((await put()).status).toBe(201);
    const replay = await put();
    expect(replay.status).toBe(401);
    expect((await errorOf(replay)).code).toBe('replayed');
  });

  it('refuses a time more than a minute ahead of the server clock (a signature dated 299 s ahead is not good for 10 minutes)', async () => {
    const keys = await generateKeyPair();
    const ahead = await fetchWith(turnRequest(await signTurn(keys, Date.now() + 299_000)));
    expect(ahead.status).toBe(401);
    expect((await errorOf(ahead)).code).toBe('stale_request');
    // A client clock a little fast is fine.
    expect((await fetchWith(turnRequest(await signTurn(keys, Date.now() + 20_000)))).status).toBe(200);
  });
});

describe('TURN minting', { timeout: 60_000 }, () => {
  it('is rate limited per identity (429 rate_limited, Retry-After)', async () => {
    const keys = await generateKeyPair();
    const limit = 3;
    const vars = { TURN_PER_IDENTITY_HOUR: String(limit) };
    for (let i = 0; i < limit; i++) {
      expect((await fetchWith(turnRequest(await signTurn(keys, Date.now() + i), `192.0.2.${20 + i}`), vars)).status).toBe(200);
    }
    const over = await fetchWith(turnRequest(await signTurn(keys, Date.now() + limit), '192.0.2.30'), vars);
    expect(over.status).toBe(429);
    expect((await errorOf(over)).code).toBe('rate_limited');
    expect(Number(over.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(over.headers.get('Cache-Control')).toBe('no-store');
  });

  it('is rate limited per client address, whatever the identities', async () => {
    const limit = 4;
    const vars = { TURN_PER_IP_HOUR: String(limit) };
    const ip = '203.0.113.77';
    for (let i = 0; i < limit; i++)
      expect((await fetchWith(turnRequest(await signTurn(await generateKeyPair()), ip), vars)).status).toBe(200);
    const over = await fetchWith(turnRequest(await signTurn(await generateKeyPair()), ip), vars);
    expect(over.status).toBe(429);
    // Another address is not affected.
    expect((await fetchWith(turnRequest(await signTurn(await generateKeyPair()), '203.0.113.78'), vars)).status).toBe(200);
  });

  it('hands out credentials for 10 minutes by default', async () => {
    const res = await fetchWith(turnRequest(await signTurn(await generateKeyPair())), { TURN_TTL_SECONDS: undefined });
    const body = (await res.json()) as { expires: number };
    expect(body.expires - Date.now()).toBeLessThanOrEqual(600_000);
  });
});
