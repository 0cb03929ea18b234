/**
 * A local RFC 8030 push service for tests (no real one can be reached from
 * these machines): an HTTPS endpoint on 127.0.0.1 with a certificate made
 * for the run (the Worker trusts it through NODE_EXTRA_CA_CERTS), and
 * subscriptions whose keys the test holds. For every push it checks the
 * VAPID JWT (RFC 8292: ES256 by the expected key, `aud` this origin, `exp`
 * at most 24 h ahead, a `sub`), decrypts the payload (RFC 8291, aes128gcm)
 * with the subscription's private key and auth secret, records it, and
 * hands the plaintext on (to Chromium's service worker, in the browser
 * tests). A subscription can be set to answer 410 Gone, as an expired one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locate } from '../../scripts/prereqs.mjs';

const b64url = (b: Uint8Array | ArrayBuffer): string => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('base64url');
type Bytes = Uint8Array<ArrayBuffer>;
const unb64url = (s: string): Bytes => new Uint8Array(Buffer.from(s, 'base64url'));
const utf8 = (s: string): Bytes => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]): Bytes => Uint8Array.from(parts.flatMap((p) => [...p]));

export interface Vapid {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/** A VAPID key pair, as the Worker takes it (the public key raw and base64url, the private key as JWK `d`). */
export async function vapidKeys(): Promise<Vapid> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const raw = await crypto.subtle.exportKey('raw', pair.publicKey);
  const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  return { publicKey: b64url(raw), privateKey: jwk.d as string, subject: 'mailto:tests@effigy.example' };
}

export interface Received {
  /** Date.now() when the push arrived here. */
  at: number;
  plaintext: string;
  headers: Record<string, string | undefined>;
}

export interface TestSubscription {
  readonly id: string;
  /** As PushSubscription.toJSON() gives it. */
  readonly json: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  readonly received: Received[];
  /** Refused pushes (a bad JWT, an undecryptable body), with why. */
  readonly refused: string[];
  /** What the service answers: 201, or 410 for an expired subscription. */
  status: number;
}

export interface PushService {
  readonly origin: string;
  /** The certificate's PEM file, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  /** The host:port the Worker must be allowed to send to (PUSH_SERVICES). */
  readonly host: string;
  subscribe(): Promise<TestSubscription>;
  /** Called with every push that verified and decrypted. */
  onPush: ((sub: TestSubscription, plaintext: string) => void | Promise<void>) | null;
  stop(): Promise<void>;
}

/** A key and certificate for 127.0.0.1, valid a day (openssl from Debian). */
function certificate(dir: string): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const openssl = locate('openssl');
  if (!openssl)
    throw new Error('openssl is not installed: the local push service needs it for its certificate (apt-get install -y openssl)');
  const r = spawnSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
    ].concat(['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE']),
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`openssl could not make the push service's certificate (is openssl installed?): ${r.stderr || r.error}`);
  return { key, cert };
}

/** RFC 8292 §2: a JWT signed ES256 by `key`, for `origin`, not expired, expiring within 24 h, with a subject. */
async function checkVapid(authorization: string | undefined, expectedKey: string, origin: string): Promise<string | null> {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) return `Authorization is not "vapid t=…, k=…": ${authorization}`;
  const [, token, k] = m as unknown as [string, string, string];
  if (k !== expectedKey) return 'k is not the VAPID key this test expects';
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) return 'the JWT is not three parts';
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud?: string; exp?: number; sub?: string };
  if (header.alg !== 'ES256') return `alg is ${header.alg}`;
  const key = await crypto.subtle.importKey('raw', unb64url(k), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, unb64url(s), utf8(`${h}.${p}`));
  if (!ok) return 'the JWT signature does not verify';
  const now = Date.now() / 1000;
  if (claims.aud !== origin) return `aud is ${claims.aud}, not ${origin}`;
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 24 * 3600 + 60) return `exp ${claims.exp} is out of range`;
  if (!claims.sub) return 'no sub';
  return null;
}

async function hkdf(salt: Bytes, ikm: Bytes, info: Bytes, bytes: number): Promise<Bytes> {
  const key = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, bytes * 8));
}

/** RFC 8291 §3.4 with RFC 8188's aes128gcm record: one record, padding after the 0x02 delimiter. */
async function decrypt(body: Bytes, ua: CryptoKeyPair, uaPublic: Bytes, auth: Bytes): Promise<string> {
  const salt = body.subarray(0, 16);
  const idlen = body[20] as number;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const asKey = await crypto.subtle.importKey('raw', asPublic, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const ecdh = new Uint8Array(await crypto.subtle.deriveBits({ name: 'ECDH', public: asKey }, ua.privateKey, 256));
  const ikm = await hkdf(auth, ecdh, concat(utf8('WebPush: info\0'), uaPublic, asPublic), 32);
  const cek = await hkdf(salt, ikm, utf8('Content-Encoding: aes128gcm\0'), 16);
  const nonce = await hkdf(salt, ikm, utf8('Content-Encoding: nonce\0'), 12);
  const aes = await crypto.subtle.importKey('raw', cek, 'AES-GCM', false, ['decrypt']);
  const padded = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce }, aes, ciphertext));
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('no last-record delimiter');
  return new TextDecoder('utf-8', { fatal: true }).decode(padded.subarray(0, end));
}

export async function startPushService(vapidPublicKey: string): Promise<PushService> {
  const dir = mkdtempSync(join(tmpdir(), 'effigy-push-'));
  const { key, cert } = certificate(dir);
  const subs = new Map<string, { sub: TestSubscription; pair: CryptoKeyPair; publicKey: Bytes; auth: Bytes }>();
  let origin = '';
  let next = 0;
  const service: PushService = {
    get origin() {
      return origin;
    },
    caFile: cert,
    get host() {
      return origin.replace(/^https:\/\//, '');
    },
    onPush: null,
    async subscribe() {
      const pair = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
      const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
      const auth = crypto.getRandomValues(new Uint8Array(16));
      const id = `s${++next}-${b64url(crypto.getRandomValues(new Uint8Array(6)))}`;
      const sub: TestSubscription = {
        id,
        json: { endpoint: `${origin}/push/${id}`, expirationTime: null, keys: { p256dh: b64url(publicKey), auth: b64url(auth) } },
        received: [],
        refused: [],
        status: 201,
      };
      subs.set(id, { sub, pair, publicKey, auth });
      return sub;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };

  const server: Server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const at = Date.now();
        const id = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
        const entry = id ? subs.get(id) : undefined;
        if (req.method !== 'POST' || !entry) return void res.writeHead(404).end();
        const { sub } = entry;
        const refuse = (why: string) => {
          sub.refused.push(why);
          res.writeHead(400).end(why);
        };
        if (sub.status !== 201) return void res.writeHead(sub.status).end();
        const jwt = await checkVapid(req.headers.authorization, vapidPublicKey, origin);
        if (jwt) return refuse(jwt);
        if (req.headers['content-encoding'] !== 'aes128gcm') return refuse(`Content-Encoding is ${req.headers['content-encoding']}`);
        if (!req.headers.ttl) return refuse('no TTL header');
        let plaintext: string;
        try {
          plaintext = await decrypt(new Uint8Array(Buffer.concat(chunks)), entry.pair, entry.publicKey, entry.auth);
        } catch (err) {
          return refuse(`does not decrypt: ${(err as Error).message}`);
        }
        sub.received.push({
          at,
          plaintext,
          headers: { ttl: req.headers.ttl as string, urgency: req.headers.urgency as string, topic: req.headers.topic as string },
        });
        res.writeHead(201).end();
        await service.onPush?.(sub, plaintext);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return service;
}
