/**
 * Signed HTTP requests (docs/protocol.md §15) as a Hono middleware: the three
 * Effigy-* headers in canonical form, the time window (5 minutes behind the
 * server's clock to 1 minute ahead), the signature over (method, path, time,
 * length), and single use: an accepted signature is remembered in D1 until
 * its time leaves the window, so the same request again is refused. A route
 * that takes it reads the signer as `c.get('identity')`; a request that fails
 * never reaches the route and is answered with a JSON error: 401 `unsigned`,
 * `stale_request`, `bad_signature`, `replayed`; 400 `bad_identity`, `bad_time`.
 */
import type { Context, Env, MiddlewareHandler } from 'hono';
import {
  parseDecimal,
  parseIdentity,
  REQUEST_HEADERS,
  requestMemoryUntil,
  requestTimeOk,
  verifyRequest,
  type Identity,
  type RequestFields,
} from '../protocol/index.ts';
import { errorResponse } from './http.ts';

/** What a signed route adds to the context. */
export interface Signed {
  Variables: { identity: Identity };
}

/** A route that takes signed requests has D1, where accepted signatures are remembered. */
type WithDb = { Bindings: { DB: D1Database } };

type Statement = Omit<RequestFields, 'time'>;

/** Checks the request's signature over `statement(c)` (the canonical path, the signed length) before the route runs. */
export function signedRequest<E extends Env & WithDb>(statement: (c: Context<E & Signed>) => Statement): MiddlewareHandler<E & Signed> {
  return async (c, next) => {
    const signer = await check(c.req.raw.headers, statement(c));
    if (signer instanceof Response) return signer;
    if (!(await firstUse(c.env.DB, signer.signature, signer.time))) {
      return errorResponse(
        401,
        'replayed',
        'this signed request was already accepted once: sign each request afresh (docs/protocol.md §15.3)',
      );
    }
    c.set('identity', signer.identity);
    await next();
  };
}

/** Records an accepted signature; false when it was recorded before (a replay). */
async function firstUse(db: D1Database, signature: string, time: number): Promise<boolean> {
  const res = await db
    .prepare('INSERT OR IGNORE INTO request_nonces (signature, expires_at) VALUES (?, ?)')
    .bind(signature, requestMemoryUntil(time))
    .run();
  return (res.meta.changes ?? 0) > 0;
}

/** The verified signer, time and signature, or the error answer. */
async function check(headers: Headers, what: Statement): Promise<{ identity: Identity; time: number; signature: string } | Response> {
  const identityText = headers.get(REQUEST_HEADERS.identity);
  const timeText = headers.get(REQUEST_HEADERS.time);
  const signature = headers.get(REQUEST_HEADERS.signature);
  const missing = [
    [REQUEST_HEADERS.identity, identityText],
    [REQUEST_HEADERS.time, timeText],
    [REQUEST_HEADERS.signature, signature],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0) {
    return errorResponse(401, 'unsigned', `this request is signed: missing ${missing.join(', ')} (docs/protocol.md §15)`);
  }
  const identity = parseIdentity(identityText as string);
  if (!identity.ok) return errorResponse(400, 'bad_identity', `${REQUEST_HEADERS.identity}: ${identity.error.message}`);
  const time = parseDecimal(timeText);
  if (time === null) return errorResponse(400, 'bad_time', `${REQUEST_HEADERS.time} must be Unix milliseconds in plain decimal`);
  const now = Date.now();
  if (!requestTimeOk(time, now)) {
    return errorResponse(
      401,
      'stale_request',
      `${REQUEST_HEADERS.time} ${time} is more than 5 minutes behind or 1 minute ahead of the server's clock ${now}`,
    );
  }
  if (!(await verifyRequest(identity.value, { ...what, time }, signature as string))) {
    return errorResponse(
      401,
      'bad_signature',
      `${REQUEST_HEADERS.signature} does not verify for ${identity.value} over "${what.method}\\n${what.path}\\n${time}\\n${what.length}"`,
    );
  }
  return { identity: identity.value, time, signature: signature as string };
}
