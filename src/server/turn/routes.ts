/**
 * GET /api/turn: short-lived TURN credentials for the identity that signs
 * the request (docs/protocol.md §15, length 0). 503 `turn_unconfigured` when
 * the deployment has no TURN server: clients then use STUN/host candidates
 * only and say so.
 */
import { Hono } from 'hono';
import { checkSignedRequest } from '../signed-request.ts';
import { turnConfig, type TurnEnv } from './config.ts';
import { mintTurnCredentials } from './credentials.ts';

export const TURN_PATH = '/api/turn';

export const turnApi = new Hono<{ Bindings: TurnEnv }>();

turnApi.get('/', async (c) => {
  const config = turnConfig(c.env);
  if (!config) {
    return c.json(
      {
        error: { code: 'turn_unconfigured', message: 'this endpoint has no TURN server: peers connect directly or through the room relay' },
      },
      503,
    );
  }
  const signed = await checkSignedRequest(c, { method: 'GET', path: TURN_PATH, length: 0 });
  if (!signed.ok) return signed.response;
  const minted = await mintTurnCredentials(config.secret, config.urls, signed.identity, config.ttlSeconds);
  c.header('Cache-Control', 'no-store');
  return c.json({ iceServers: [{ urls: minted.urls, username: minted.username, credential: minted.credential }], expires: minted.expires });
});
