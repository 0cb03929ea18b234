/**
 * Checks a signed HTTP request (docs/protocol.md §15): the three Effigy-*
 * headers in canonical form, the time window, and the signature over
 * (method, path, time, length). Answers the identity, or a JSON error the
 * route returns as it is.
 */
import type { Context } from 'hono';
import {
  parseDecimal,
  parseIdentity,
  REQUEST_HEADERS,
  REQUEST_WINDOW_MS,
  requestTimeOk,
  verifyRequest,
  type Identity,
} from '../protocol/index.ts';

export type SignedRequestResult = { ok: true; identity: Identity; time: number } | { ok: false; response: Response };

const refuse = (c: Context, status: 400 | 401, code: string, message: string): SignedRequestResult => ({
  ok: false,
  response: c.json({ error: { code, message } }, status),
});

export async function checkSignedRequest(
  c: Context,
  what: { method: string; path: string; length: number },
  now = Date.now(),
): Promise<SignedRequestResult> {
  const identityText = c.req.header(REQUEST_HEADERS.identity);
  const timeText = c.req.header(REQUEST_HEADERS.time);
  const signature = c.req.header(REQUEST_HEADERS.signature);
  const missing = [
    [REQUEST_HEADERS.identity, identityText],
    [REQUEST_HEADERS.time, timeText],
    [REQUEST_HEADERS.signature, signature],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0) return refuse(c, 401, 'unsigned', `this request is signed: missing ${missing.join(', ')} (docs/protocol.md §15)`);
  const identity = parseIdentity(identityText as string);
  if (!identity.ok) return refuse(c, 400, 'bad_identity', `${REQUEST_HEADERS.identity}: ${identity.error.message}`);
  const time = parseDecimal(timeText);
  if (time === null) return refuse(c, 400, 'bad_time', `${REQUEST_HEADERS.time} must be Unix milliseconds in plain decimal`);
  if (!requestTimeOk(time, now)) {
    return refuse(
      c,
      401,
      'stale_request',
      `${REQUEST_HEADERS.time} ${time} is more than ${REQUEST_WINDOW_MS / 60_000} minutes from the server's clock ${now}`,
    );
  }
  const fields = { method: what.method, path: what.path, time, length: what.length };
  if (!(await verifyRequest(identity.value, fields, signature as string))) {
    return refuse(
      c,
      401,
      'bad_signature',
      `${REQUEST_HEADERS.signature} does not verify for ${identity.value} over "${what.method}\\n${what.path}\\n${time}\\n${what.length}"`,
    );
  }
  return { ok: true, identity: identity.value, time };
}
