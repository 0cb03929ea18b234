/**
 * Web Push registration (docs/protocol.md §15.6), mounted at /api/push:
 *
 *   GET    /api/push          {configured, publicKey?}: the VAPID key a browser subscribes with
 *   PUT    /api/push/:hash    signed: wake this device (and, with `member`, its account) at an endpoint
 *   DELETE /api/push/:hash    signed: stop
 *
 * The path names the SHA-256 of the body, so the signature (§15.1: method,
 * path, time, length) covers the body too. Registrations are budgeted per
 * identity and per client address; an endpoint must be at one of the push
 * services this server sends to (PUSH_SERVICES).
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import * as z from 'zod/mini';
import {
  decodeHash,
  openEntry,
  parseDecimal,
  PUSH,
  pushBodyHash,
  pushSubscribeSchema,
  pushUnsubscribeSchema,
  REQUEST_HEADERS,
  verifyMembership,
  type Identity,
} from '../../protocol/index.ts';
import { clientAddress } from '../client-ip.ts';
import type { Env } from '../env.ts';
import { leasedSynodState } from '../hosted/synods.ts';
import { errorResponse } from '../http.ts';
import { countEvent } from '../rate-windows.ts';
import { signedRequest } from '../signed-request.ts';
import { allowedEndpoint, pushRate, pushServices, vapidOf } from './config.ts';
import { readSmallBody } from './body.ts';
import { register, unregister } from './subscriptions.ts';

type PushRoutes = { Bindings: Env; Variables: { identity: Identity; hash: string; length: number } };

export const pushApi = new Hono<PushRoutes>();

pushApi.use(
  '*',
  cors({
    origin: '*',
    allowMethods: ['GET', 'PUT', 'DELETE', 'OPTIONS'],
    allowHeaders: [REQUEST_HEADERS.identity, REQUEST_HEADERS.time, REQUEST_HEADERS.signature, 'Content-Type'],
    exposeHeaders: ['Retry-After'],
    maxAge: 86400,
  }),
);

pushApi.use('*', async (c, next) => {
  await next();
  c.res.headers.set('Cache-Control', 'no-store');
});

pushApi.get('/', (c) => {
  const vapid = vapidOf(c.env);
  return c.json(vapid ? { configured: true, publicKey: vapid.publicKey } : { configured: false });
});

/** Pushes configured, the path's hash and a small Content-Length, before the signature is checked. */
const prepared: MiddlewareHandler<PushRoutes> = async (c, next) => {
  if (!vapidOf(c.env)) return errorResponse(404, 'push_unconfigured', 'this server sends no pushes (GET /api/push says so)');
  const hash = c.req.param('hash') ?? '';
  if (!decodeHash(hash).ok) return errorResponse(400, 'bad_hash', 'the path names the SHA-256 of the body: /api/push/&<43 base64url>');
  const length = parseDecimal(c.req.header('Content-Length'));
  if (length === null) return errorResponse(411, 'length_required', 'a registration needs a plain decimal Content-Length');
  if (length > PUSH.bodyBytes) return errorResponse(413, 'too_big', `a registration is at most ${PUSH.bodyBytes} bytes`);
  c.set('hash', hash);
  c.set('length', length);
  await next();
};

const signed = signedRequest<PushRoutes>((c) => ({ method: c.req.method, path: `${PUSH.path}/${c.get('hash')}`, length: c.get('length') }));

/** The body, checked against the path's hash and its schema. */
async function bodyOf<T>(c: Parameters<MiddlewareHandler<PushRoutes>>[0], schema: z.ZodMiniType<T>): Promise<T | Response> {
  const text = await readSmallBody(c.req.raw.body, c.get('length'));
  if (text === null) return errorResponse(400, 'length_mismatch', 'the body is not Content-Length bytes of UTF-8');
  if (pushBodyHash(text) !== c.get('hash')) return errorResponse(409, 'hash_mismatch', 'the body does not hash to the path');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return errorResponse(400, 'bad_subscription', 'the body is not JSON');
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : errorResponse(400, 'bad_subscription', z.prettifyError(parsed.error));
}

/** The synod `member` (the text of its add_device entry) proves the signer belongs to; a Response when it does not. */
async function synodOf(env: Env, device: Identity, member: string): Promise<Identity | Response> {
  const refuse = (why: string) => errorResponse(403, 'forbidden', `member: ${why}`);
  const added = await openEntry(member);
  if (!added.ok) return refuse(added.error.message);
  const p = added.value.body.payload;
  const synod = added.value.body.identity;
  if (p.type !== 'synod' || p.op !== 'add_device' || p.device !== device) return refuse('not the synod entry that added this device');
  if (!(await verifyMembership(synod, device, p.proof))) return refuse('the membership proof does not verify');
  // Where the account leases its feed here, its word counts: a device it revoked is not woken for it
  // (one added after the leased head is not in it yet, and its add_device above is proof enough).
  const cut = (await leasedSynodState(env.DB, synod))?.devices.get(device)?.cut;
  if (cut !== undefined && cut !== null) return refuse('this device is not a member of that account any more');
  return synod;
}

async function importsAsP256(p256dh: string): Promise<boolean> {
  try {
    const raw = Uint8Array.from(atob(p256dh.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
    await crypto.subtle.importKey('raw', raw, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    return raw.length === 65 && raw[0] === 4;
  } catch {
    return false;
  }
}

pushApi.put('/:hash', prepared, signed, async (c) => {
  const body = await bodyOf(c, pushSubscribeSchema);
  if (body instanceof Response) return body;
  const device = c.get('identity');
  if (!allowedEndpoint(body.endpoint, pushServices(c.env)))
    return errorResponse(403, 'forbidden', 'this server does not send pushes to that push service');
  if (!(await importsAsP256(body.keys.p256dh))) return errorResponse(400, 'bad_subscription', 'keys.p256dh is not a P-256 public key');
  const synod = body.member === undefined ? null : await synodOf(c.env, device, body.member);
  if (synod instanceof Response) return synod;
  const ip = clientAddress(c.req.raw.headers);
  const rate = await countEvent(c.env.DB, [
    [`push-reg:id:${device}`, pushRate(c.env, 'PUSH_REGISTRATIONS_PER_HOUR')],
    ...(ip ? [[`push-reg:ip:${ip}`, pushRate(c.env, 'PUSH_REGISTRATIONS_PER_HOUR') * 10] as const] : []),
  ]);
  if (!rate.ok)
    return errorResponse(429, 'rate_limited', 'too many push registrations this hour; the one you have keeps working', {
      'Retry-After': String(rate.retryAfter),
    });
  const identities = synod ? [device, synod] : [device];
  const now = Date.now();
  const stored = await register(c.env.DB, {
    device,
    identities,
    endpoint: body.endpoint,
    p256dh: body.keys.p256dh,
    auth: body.keys.auth,
    kinds: body.kinds,
    ip,
    now,
  });
  if (!stored)
    return errorResponse(429, 'quota', 'this device, or this network, has as many push subscriptions as it may: remove one first');
  return c.json({ ok: true, identities, kinds: [...new Set(body.kinds)].sort() });
});

pushApi.delete('/:hash', prepared, signed, async (c) => {
  const body = await bodyOf(c, pushUnsubscribeSchema);
  if (body instanceof Response) return body;
  const removed = await unregister(c.env.DB, c.get('identity'), body.endpoint);
  return c.json({ ok: true, removed });
});

pushApi.all('/*', (c) => errorResponse(405, 'method_not_allowed', `${c.req.method} ${c.req.path} is not answered here`));
