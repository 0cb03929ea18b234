/**
 * GET /api/turn: short-lived TURN credentials for the identity that signs
 * the request (docs/protocol.md §15.5, length 0). A deployment without a TURN
 * server is a normal one, so it answers 200 `{configured: false, iceServers: []}`
 * to anyone (it gives nothing away): clients then use STUN/host candidates
 * only and say so, without an error in the browser console.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { signedRequest } from '../signed-request.ts';
import { turnConfig, type TurnConfig, type TurnEnv } from './config.ts';
import { mintTurnCredentials } from './credentials.ts';

export const TURN_PATH = '/api/turn';

type TurnRoutes = { Bindings: TurnEnv; Variables: { turn: TurnConfig } };

export const turnApi = new Hono<TurnRoutes>();

/** The deployment's TURN server, as c.get('turn'), checked before the signature. */
const configured: MiddlewareHandler<TurnRoutes> = async (c, next) => {
  const config = turnConfig(c.env);
  c.header('Cache-Control', 'no-store');
  if (!config) return c.json({ configured: false, iceServers: [] });
  c.set('turn', config);
  await next();
  // Refusals from the signature middleware are fresh Responses: mark them too.
  c.res.headers.set('Cache-Control', 'no-store');
};

turnApi.get(
  '/',
  configured,
  signedRequest<TurnRoutes>(() => ({ method: 'GET', path: TURN_PATH, length: 0 })),
  async (c) => {
    const config = c.get('turn');
    const minted = await mintTurnCredentials(config.secret, config.urls, c.get('identity'), config.ttlSeconds);
    return c.json({
      configured: true,
      iceServers: [{ urls: minted.urls, username: minted.username, credential: minted.credential }],
      expires: minted.expires,
    });
  },
);
