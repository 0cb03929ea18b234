/**
 * The client side of GET /api/turn (src/peer/turn.ts) against the Worker's
 * own route, in-process: `fetch` is handed to the Hono route with the
 * deployment's vars, so both sides of docs/protocol.md §15.5 meet.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TurnCredentialSource } from '../../src/peer/turn.ts';
import { generateKeyPair } from '../../src/protocol/index.ts';
import { turnApi } from '../../src/server/turn/routes.ts';
import type { TurnEnv } from '../../src/server/turn/config.ts';

const ORIGIN = 'https://effigy.test';

function serve(env: TurnEnv): { statuses: number[] } {
  const statuses: number[] = [];
  vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
    expect(url).toBe(`${ORIGIN}/api/turn`);
    const res = await turnApi.request('/', init ?? {}, env);
    statuses.push(res.status);
    return res;
  });
  return { statuses };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('TURN credentials, client and server together', () => {
  it('without a TURN server: a normal 200 answer, no relay, and a note for the Network screen', async () => {
    const { statuses } = serve({});
    const ice = await new TurnCredentialSource(ORIGIN, await generateKeyPair()).get();
    expect(statuses).toEqual([200]);
    expect(ice).toEqual({ iceServers: [], turn: false, note: 'this server has no TURN relay' });
  });

  it('with a TURN server: signed, minted for this identity, and cached', async () => {
    const { statuses } = serve({ TURN_URLS: 'turn:127.0.0.1:3478?transport=udp', TURN_SECRET: 'a-shared-secret-for-coturn-tests' });
    const keys = await generateKeyPair();
    const source = new TurnCredentialSource(ORIGIN, keys, { policy: 'relay' });
    const now = Date.now();
    const ice = await source.get(now);
    expect(ice.turn).toBe(true);
    expect(ice.iceTransportPolicy).toBe('relay');
    expect(ice.iceServers).toEqual([
      {
        urls: ['turn:127.0.0.1:3478?transport=udp'],
        username: expect.stringMatching(new RegExp(`:${keys.identity}$`)),
        credential: expect.any(String),
      },
    ]);
    expect(await source.get(now + 1000)).toBe(ice);
    expect(statuses).toEqual([200]);
  });
});
