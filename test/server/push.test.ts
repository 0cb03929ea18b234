/**
 * Web Push registration inside workerd (the sending is tested live, against a
 * local push service: test/node/push-live.test.ts): unconfigured answers,
 * which endpoints a server sends to, the route's refusals in order, and the
 * budgets of the subscription table.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, pushPath, signRequest, type Identity } from '../../src/protocol/index.ts';
import { allowedEndpoint, DEFAULT_PUSH_SERVICES, PUSH_LIMITS, vapidOf } from '../../src/server/push/config.ts';
import { pushApi } from '../../src/server/push/routes.ts';
import { register, subscriptionsFor, unregister } from '../../src/server/push/subscriptions.ts';
import { isCallOffer } from '../../src/server/push/triggers.ts';

const P256 = 'BH0JhkDOvShriHVzv8DHU5VyuGkEll9nc-wdZrJ0eUJr_7didlHBDGutyZGa9h_-8tNMgXrTht-eJgcROitiWEQ';
const ENV = {
  ...env,
  VAPID_PUBLIC_KEY: P256,
  VAPID_PRIVATE_KEY: 'Z7aA87dflQn9JUBhrBbaX7wsFyg0YzyuA6cHalHccUU',
  VAPID_SUBJECT: 'mailto:tests@effigy.example',
  PUSH_SERVICES: 'push.example, .push.test',
};

const sub = (endpoint: string) => ({ endpoint, keys: { p256dh: P256, auth: 'AAAAAAAAAAAAAAAAAAAAAA' }, kinds: ['message'] });

async function put(body: string, e = ENV, path = pushPath(body)) {
  const keys = await generateKeyPair();
  const length = new TextEncoder().encode(body).length;
  const headers = await signRequest(keys, { method: 'PUT', path, time: Date.now(), length });
  return pushApi.request(
    path.replace('/api/push', ''),
    { method: 'PUT', body, headers: { ...headers, 'Content-Length': String(length) } },
    e,
  );
}

describe('push configuration', () => {
  it('is off without all three VAPID settings, and says so to anyone', async () => {
    expect(vapidOf({})).toBeNull();
    expect(vapidOf({ VAPID_PUBLIC_KEY: P256, VAPID_SUBJECT: 'mailto:x@y' })).toBeNull();
    const res = await pushApi.request('/', {}, env);
    expect(await res.json()).toEqual({ configured: false });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const on = await pushApi.request('/', {}, ENV);
    expect(await on.json()).toEqual({ configured: true, publicKey: P256 });
    const refused = await put(JSON.stringify(sub('https://push.example/a')), env as typeof ENV);
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('push_unconfigured');
  });

  it('sends only to the push services it lists: hosts exactly, suffixes for subdomains, https only', () => {
    const services = ['push.example', '.push.test'];
    expect(allowedEndpoint('https://push.example/x', services)).toBe(true);
    expect(allowedEndpoint('https://a.push.test/x', services)).toBe(true);
    expect(allowedEndpoint('https://push.test/x', services)).toBe(false);
    expect(allowedEndpoint('https://evilpush.example/x', services)).toBe(false);
    expect(allowedEndpoint('http://push.example/x', services)).toBe(false);
    expect(allowedEndpoint('https://push.example:8443/x', services)).toBe(false);
    expect(allowedEndpoint('https://fcm.googleapis.com/fcm/send/abc', [...DEFAULT_PUSH_SERVICES])).toBe(true);
    expect(allowedEndpoint('https://web.push.apple.com/QAbc', [...DEFAULT_PUSH_SERVICES])).toBe(true);
  });

  it('reads nothing of a message_to payload but whether it is a call offer', () => {
    expect(isCallOffer({ ch: 'call', id: 'x', op: 'offer', sdp: '', video: true })).toBe(true);
    expect(isCallOffer({ ch: 'call', id: 'x', op: 'ice' })).toBe(false);
    expect(isCallOffer({ ch: 'rtc', sdp: { type: 'offer' } })).toBe(false);
    expect(isCallOffer(['call', 'offer'])).toBe(false);
    expect(isCallOffer('offer')).toBe(false);
  });
});

describe('PUT /api/push/:hash', () => {
  it('refuses a path that is not the body hash, a large body, a body of another shape, a weak key, another push service', async () => {
    const body = JSON.stringify(sub('https://push.example/a'));
    const res = (r: Response) => r.json().then((j) => [r.status, (j as { error: { code: string } }).error.code]);
    expect(await res(await pushApi.request('/nothash', { method: 'PUT', body }, ENV))).toEqual([400, 'bad_hash']);
    expect(await res(await put(body, ENV, pushPath(`${body} `)))).toEqual([409, 'hash_mismatch']);
    const big = JSON.stringify({ ...sub('https://push.example/a'), member: 'x'.repeat(5000) });
    expect(await res(await put(big))).toEqual([413, 'too_big']);
    expect(await res(await put(JSON.stringify({ ...sub('https://push.example/a'), extra: 1 })))).toEqual([400, 'bad_subscription']);
    const weak = JSON.stringify({
      ...sub('https://push.example/a'),
      keys: { p256dh: `BA${'A'.repeat(85)}`, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(await res(await put(weak))).toEqual([400, 'bad_subscription']);
    expect(await res(await put(JSON.stringify(sub('https://elsewhere.example/a'))))).toEqual([403, 'forbidden']);
    const ok = await put(body);
    expect(ok.status).toBe(200);
  });
});

describe('the subscription table', () => {
  const device = '@11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' as Identity;
  const synod = '@iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w' as Identity;
  const reg = (endpoint: string, now: number, ip: string | null = '192.0.2.1') =>
    register(env.DB, { device, identities: [device, synod], endpoint, p256dh: P256, auth: 'a', kinds: ['message', 'call'], ip, now });

  it('keeps a device to its endpoints budget, refreshes one it has, and finds rows by identity and kind', async () => {
    const now = Date.now();
    for (let i = 0; i < PUSH_LIMITS.subscriptionsPerDevice; i++) expect(await reg(`https://push.example/${i}`, now)).toBe(true);
    expect(await reg('https://push.example/one-too-many', now)).toBe(false);
    expect(await reg('https://push.example/0', now + 1)).toBe(true); // a refresh
    expect(await subscriptionsFor(env.DB, synod, 'call', now)).toHaveLength(PUSH_LIMITS.subscriptionsPerDevice);
    expect(await subscriptionsFor(env.DB, device, 'message', now)).toHaveLength(PUSH_LIMITS.subscriptionsPerDevice);
    expect(await unregister(env.DB, device, 'https://push.example/0')).toBe(2);
    expect(await reg('https://push.example/new', now)).toBe(true);
    // Expired rows are not woken.
    expect(await subscriptionsFor(env.DB, device, 'message', now + PUSH_LIMITS.subscriptionMs + 1)).toHaveLength(0);
  });
});
