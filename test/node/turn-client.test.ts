/**
 * The client side of GET /api/turn (src/peer/turn.ts) against the real
 * Worker (`wrangler dev`, as `npm start` runs it, with its D1: every signed
 * request is single-use and minting is rate limited there), once without a
 * TURN server and once with one configured, so both sides of
 * docs/protocol.md §15.5 meet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TurnCredentialSource } from '../../src/peer/turn.ts';
import { generateKeyPair } from '../../src/protocol/index.ts';
import { startLocalWorker, type LocalWorker } from '../support/local-worker.ts';

const TURN = { TURN_URLS: 'turn:127.0.0.1:3478?transport=udp', TURN_SECRET: 'a-shared-secret-for-coturn-tests' };

let plain: LocalWorker;
let withTurn: LocalWorker;

beforeAll(async () => {
  [plain, withTurn] = await Promise.all([startLocalWorker(), startLocalWorker({ vars: TURN })]);
}, 120_000);

afterAll(async () => {
  await Promise.all([plain?.stop(), withTurn?.stop()]);
});

describe('TURN credentials, client and server together', { timeout: 30_000 }, () => {
  it('without a TURN server: a normal 200 answer, no relay, and a note for the Network screen', async () => {
    const ice = await new TurnCredentialSource(plain.url, await generateKeyPair()).get();
    expect(ice).toEqual({ iceServers: [], turn: false, note: 'this server has no TURN relay' });
  });

  it('with a TURN server: signed, minted for this identity for 10 minutes, and cached', async () => {
    const keys = await generateKeyPair();
    const source = new TurnCredentialSource(withTurn.url, keys, { policy: 'relay' });
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
    const expiry = Number(ice.iceServers[0]!.username!.toString().split(':')[0]) * 1000;
    expect(expiry - now).toBeLessThanOrEqual(600_000 + 5_000);
    // Cached: a second get within the lifetime asks nothing (it would be a fresh signed request if it did).
    expect(await source.get(now + 1000)).toBe(ice);
  });
});
