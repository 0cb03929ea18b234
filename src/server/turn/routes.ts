/**
 * GET /api/turn: short-lived TURN credentials for the identity that signs
 * the request (docs/protocol.md §15.5, length 0). A deployment without a TURN
 * server is a normal one, so it answers 200 `{configured: false, iceServers: []}`
 * to anyone (it gives nothing away): clients then use STUN/host candidates
 * only and say so, without an error in the browser console.
 *
 * Identities are free, so minting is limited per identity and per client
 * address (TURN_PER_IDENTITY_HOUR, TURN_PER_IP_HOUR): over either, 429
 * `rate_limited` with Retry-After.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { clientAddress } from '../client-ip.ts';
import type { Env } from '../env.ts';
import { setting } from '../hosted/settings.ts';
import { errorResponse } from '../http.ts';
import { countEvent } from '../rate-windows.ts';
import { signedRequest } from '../signed-request.ts';
import { turnConfig, type TurnConfig } from './config.ts';
import { mintTurnCredentials } from './credentials.ts';

export const TURN_PATH = '/api/turn';

type TurnRoutes = { Bindings: Env; Variables: { turn: TurnConfig } };

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
    const identity = c.get('identity');
    const ip = clientAddress(c.req.raw.headers);
    const rate = await countEvent(c.env.DB, [
      [`turn:id:${identity}`, setting(c.env, 'TURN_PER_IDENTITY_HOUR')],
      ...(ip ? [[`turn:ip:${ip}`, setting(c.env, 'TURN_PER_IP_HOUR')] as const] : []),
    ]);
    if (!rate.ok) {
      return errorResponse(
        429,
        'rate_limited',
        'too many TURN credentials asked for this hour; the ones you have stay good until they expire',
        {
          'Retry-After': String(rate.retryAfter),
        },
      );
    }
    const config = c.get('turn');
    const minted = await mintTurnCredentials(config.secret, config.urls, identity, config.ttlSeconds);
    return c.json({
      configured: true,
      iceServers: [{ urls: minted.urls, username: minted.username, credential: minted.credential }],
      expires: minted.expires,
    });
  },
);
