/**
 * GET /api/turn: short-lived TURN credentials for the identity that signs
 * the request (docs/protocol.md §15, length 0). 503 `turn_unconfigured` when
 * the deployment has no TURN server: clients then use STUN/host candidates
 * only and say so.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { errorResponse } from '../http.ts';
import { signedRequest } from '../signed-request.ts';
import { turnConfig, type TurnConfig, type TurnEnv } from './config.ts';
import { mintTurnCredentials } from './credentials.ts';

export const TURN_PATH = '/api/turn';

type TurnRoutes = { Bindings: TurnEnv; Variables: { turn: TurnConfig } };

export const turnApi = new Hono<TurnRoutes>();

/** The deployment's TURN server, as c.get('turn'), checked before the signature. */
const configured: MiddlewareHandler<TurnRoutes> = async (c, next) => {
  const config = turnConfig(c.env);
  if (!config) {
    return errorResponse(503, 'turn_unconfigured', 'this endpoint has no TURN server: peers connect directly or through the room relay');
  }
  c.set('turn', config);
  await next();
};

turnApi.get(
  '/',
  configured,
  signedRequest<TurnRoutes>(() => ({ method: 'GET', path: TURN_PATH, length: 0 })),
  async (c) => {
    const config = c.get('turn');
    const minted = await mintTurnCredentials(config.secret, config.urls, c.get('identity'), config.ttlSeconds);
    c.header('Cache-Control', 'no-store');
    return c.json({
      iceServers: [{ urls: minted.urls, username: minted.username, credential: minted.credential }],
      expires: minted.expires,
    });
  },
);
