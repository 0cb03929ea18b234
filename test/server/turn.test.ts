import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { turnApi } from '../../src/server/turn/routes.ts';
import { mintTurnCredentials } from '../../src/server/turn/credentials.ts';
import { turnConfig } from '../../src/server/turn/config.ts';
import { generateKeyPair, signRequest } from '../../src/protocol/index.ts';

const SECRET = 'a-shared-secret-for-coturn-tests';
const ENV = {
  ...env,
  TURN_URLS: 'turn:127.0.0.1:3478?transport=udp, turn:127.0.0.1:3478?transport=tcp',
  TURN_SECRET: SECRET,
  TURN_TTL_SECONDS: '600',
};

describe('TURN credentials', () => {
  it('follow the TURN REST scheme coturn checks: expiry:identity and base64 HMAC-SHA1', async () => {
    // Vector computed independently: printf '1700000600:@alice' | openssl dgst -sha1 -hmac 'a-shared-secret-for-coturn-tests' -binary | base64
    const c = await mintTurnCredentials(SECRET, ['turn:x'], '@alice', 600, 1_700_000_000_000);
    expect(c.username).toBe('1700000600:@alice');
    expect(c.expires).toBe(1_700_000_600_000);
    expect(c.credential).toBe('Vk835rNpEVWiww+UAUidQWrm4AU=');
    const again = await mintTurnCredentials(SECRET, ['turn:x'], '@alice', 600, 1_700_000_000_000);
    expect(again.credential).toBe(c.credential);
    const other = await mintTurnCredentials(`${SECRET}x`, ['turn:x'], '@alice', 600, 1_700_000_000_000);
    expect(other.credential).not.toBe(c.credential);
  });

  it('are configured only with URLs and a real secret', () => {
    expect(turnConfig({})).toBeNull();
    expect(turnConfig({ TURN_URLS: 'turn:a', TURN_SECRET: 'short' })).toBeNull();
    expect(turnConfig({ TURN_URLS: 'http://not-turn', TURN_SECRET: SECRET })).toBeNull();
    expect(turnConfig(ENV)?.urls).toHaveLength(2);
    expect(turnConfig({ ...ENV, TURN_TTL_SECONDS: '5' })?.ttlSeconds).toBe(600);
    expect(turnConfig({ ...ENV, TURN_TTL_SECONDS: '86400' })?.ttlSeconds).toBe(600);
  });

  it('are minted for the identity that signs the request, and nobody else', async () => {
    const keys = await generateKeyPair();
    const headers = await signRequest(keys, { method: 'GET', path: '/api/turn', time: Date.now(), length: 0 });
    const res = await turnApi.request('/', { headers }, ENV);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as {
      configured: boolean;
      iceServers: { urls: string[]; username: string; credential: string }[];
      expires: number;
    };
    expect(body.configured).toBe(true);
    expect(body.iceServers[0]?.username).toMatch(new RegExp(`^\\d+:${keys.identity.replace(/[-]/g, '\\-')}$`));
    expect(body.expires).toBeGreaterThan(Date.now());

    const unsigned = await turnApi.request('/', {}, ENV);
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('cache-control')).toBe('no-store');
    const forged = await turnApi.request('/', { headers: { ...headers, 'Effigy-Identity': (await generateKeyPair()).identity } }, ENV);
    expect(forged.status).toBe(401);
    const stale = await signRequest(keys, { method: 'GET', path: '/api/turn', time: Date.now() - 10 * 60_000, length: 0 });
    expect((await turnApi.request('/', { headers: stale }, ENV)).status).toBe(401);
    const otherPath = await signRequest(keys, { method: 'GET', path: '/api/blobs', time: Date.now(), length: 0 });
    expect((await turnApi.request('/', { headers: otherPath }, ENV)).status).toBe(401);
  });

  it('say plainly, with a 200, that there is no TURN server when none is configured', async () => {
    const res = await turnApi.request('/', {}, env);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ configured: false, iceServers: [] });
  });
});
