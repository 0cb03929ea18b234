/**
 * GET /api/turn: short-lived TURN credentials for the identity that signs
 * the request (docs/protocol.md §15.5, length 0). A deployment without a TURN
 * server is a normal one, so it answers 200 `{configured: false, iceServers: []}`
 * to anyone (it gives nothing away): clients then use STUN/host candidates
 * only and say so, without an error in the browser console.
 */
import { Hono } from 'hono';
import { checkSignedRequest } from '../signed-request.ts';
import { turnConfig, type TurnEnv } from './config.ts';
import { mintTurnCredentials } from './credentials.ts';

export const TURN_PATH = '/api/turn';

export const turnApi = new Hono<{ Bindings: TurnEnv }>();

turnApi.get('/', async (c) => {
  const config = turnConfig(c.env);
  c.header('Cache-Control', 'no-store');
  if (!config) return c.json({ configured: false, iceServers: [] });
  const signed = await checkSignedRequest(c, { method: 'GET', path: TURN_PATH, length: 0 });
  if (!signed.ok) return signed.response;
  const minted = await mintTurnCredentials(config.secret, config.urls, signed.identity, config.ttlSeconds);
  return c.json({
    configured: true,
    iceServers: [{ urls: minted.urls, username: minted.username, credential: minted.credential }],
    expires: minted.expires,
  });
});
