/**
 * Ed25519 with one pinned verification rule, whichever backend runs it.
 *
 * Rule (RFC 8032 §5.1.7, strict, cofactorless — what OpenSSL and BoringSSL,
 * and so WebCrypto in Node, workerd and Chromium, implement):
 *  1. the public key A is a canonical encoding (y < p) of a curve point that
 *     is not of small order;
 *  2. the signature's R is a canonical encoding (y < p);
 *  3. S < L;
 *  4. encode([S]B − [k]A) == R byte for byte, k = SHA-512(R‖A‖M) mod L.
 * Checks 1–3 run here before any backend sees the bytes, so the backends only
 * ever disagree on nothing. noble's own `verify` is cofactored (it accepts a
 * mixed-order R that WebCrypto rejects), so the fallback computes check 4 with
 * noble's point arithmetic instead of calling it.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concat } from './bytes.ts';
import { fail, ok, type Result } from './errors.ts';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const Point = ed25519.Point;

function leToBigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

/** p = 2^255 − 19 and L, little-endian, for byte-wise comparisons on the hot path. */
const P_LE = new Uint8Array(32).fill(0xff);
P_LE[0] = 0xed;
P_LE[31] = 0x7f;
const L_LE = Uint8Array.from({ length: 32 }, (_, i) => Number((L >> BigInt(8 * i)) & 0xffn));

/** a < b for little-endian numbers of equal length; `topMask` masks a's last byte. */
function lessThanLe(a: Uint8Array, b: Uint8Array, topMask = 0xff): boolean {
  for (let i = a.length - 1; i >= 0; i--) {
    const x = i === a.length - 1 ? (a[i] as number) & topMask : (a[i] as number);
    const y = b[i] as number;
    if (x !== y) return x < y;
  }
  return false;
}

/** y < p, with the sign bit of x masked off. */
const isCanonicalPointEncoding = (bytes: Uint8Array): boolean => lessThanLe(bytes, P_LE, 0x7f);

/** Rule 1. Checked once per identity and cached by callers. */
export function checkPublicKey(publicKey: Uint8Array): Result<Uint8Array> {
  if (publicKey.length !== 32) return fail('bad_key', 'public key must be 32 bytes');
  if (!isCanonicalPointEncoding(publicKey)) return fail('bad_key', 'public key is not a canonical point encoding');
  let point;
  try {
    point = Point.fromBytes(publicKey);
  } catch {
    return fail('bad_key', 'public key is not a point on Ed25519');
  }
  if (point.isSmallOrder()) return fail('bad_key', 'public key is a small-order point');
  return ok(publicKey);
}

/** Rules 2 and 3: cheap, and run before every verify. */
export function checkSignatureEncoding(signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  return isCanonicalPointEncoding(signature.subarray(0, 32)) && lessThanLe(signature.subarray(32), L_LE);
}

/** Rule 4 with noble's point arithmetic: for platforms without WebCrypto Ed25519. */
export function verifyCofactorless(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const A = Point.fromBytes(publicKey);
    const r = signature.subarray(0, 32);
    const s = leToBigint(signature.subarray(32));
    const k = leToBigint(sha512(concat(r, publicKey, message))) % L;
    const sB = s === 0n ? Point.ZERO : Point.BASE.multiplyUnsafe(s);
    const kA = k === 0n ? Point.ZERO : A.multiplyUnsafe(k);
    const expected = sB.subtract(kA).toBytes();
    if (expected.length !== 32) return false;
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= (expected[i] as number) ^ (r[i] as number);
    return diff === 0;
  } catch {
    return false;
  }
}

export type Backend = 'webcrypto' | 'noble';

/** RFC 8032 §7.1 test 1: detection verifies a real signature, not just the algorithm name. */
const PROBE_KEY = new Uint8Array([
  0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23,
  0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
]);
const PROBE_SIG = new Uint8Array([
  0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86, 0xe2, 0xcc, 0x80, 0x6e, 0x82, 0x8a, 0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9,
  0x74, 0xd8, 0x73, 0xe0, 0x65, 0x22, 0x49, 0x01, 0x55, 0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac, 0xc6, 0x1e, 0x39, 0x70, 0x1c, 0xf9,
  0xb4, 0x6b, 0xd2, 0x5b, 0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24, 0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b,
]);

let backendPromise: Promise<Backend> | undefined;
/** Set once detection settles, so the hot path need not await it. */
let detected: Backend | undefined;
let forced: Backend | undefined;

/** Tests pin a backend to prove both agree on the same vectors. */
export function forceBackend(backend: Backend | undefined): void {
  forced = backend;
  keyCache.clear();
}

async function detect(): Promise<Backend> {
  try {
    const subtle = typeof crypto === 'undefined' ? undefined : crypto.subtle;
    if (!subtle) return 'noble';
    const key = await subtle.importKey('raw', PROBE_KEY, { name: 'Ed25519' }, false, ['verify']);
    return (await subtle.verify({ name: 'Ed25519' }, key, PROBE_SIG, new Uint8Array(0))) ? 'webcrypto' : 'noble';
  } catch {
    return 'noble';
  }
}

export function backend(): Promise<Backend> {
  if (forced) return Promise.resolve(forced);
  backendPromise ??= detect().then((b) => (detected = b));
  return backendPromise;
}

/**
 * Imported verify keys by a stable name; identities recur and imports cost.
 * Settled keys are kept as values so the hot path makes no extra await.
 */
const keyCache = new Map<string, CryptoKey | Promise<CryptoKey>>();
const KEY_CACHE_LIMIT = 4096;

function cachedVerifyKey(cacheKey: string, publicKey: Uint8Array): CryptoKey | Promise<CryptoKey> {
  const hit = keyCache.get(cacheKey);
  if (hit) return hit;
  if (keyCache.size >= KEY_CACHE_LIMIT) {
    const oldest = keyCache.keys().next().value;
    if (oldest !== undefined) keyCache.delete(oldest);
  }
  const pending = crypto.subtle.importKey('raw', publicKey.slice(), { name: 'Ed25519' }, false, ['verify']);
  keyCache.set(cacheKey, pending);
  pending.then(
    (key) => keyCache.get(cacheKey) === pending && keyCache.set(cacheKey, key),
    () => keyCache.get(cacheKey) === pending && keyCache.delete(cacheKey),
  );
  return pending;
}

/**
 * Verify under the pinned rule. The public key must already have passed
 * `checkPublicKey` (identities are checked when decoded). `cacheKey` is any
 * stable name for the key, usually its identity text.
 */
export async function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, cacheKey: string): Promise<boolean> {
  if (!checkSignatureEncoding(signature)) return false;
  const chosen = forced ?? detected ?? (await backend());
  if (chosen === 'noble') return verifyCofactorless(publicKey, message, signature);
  try {
    const cached = cachedVerifyKey(cacheKey, publicKey);
    const key = cached instanceof Promise ? await cached : cached;
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}

/** PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410), for WebCrypto import. */
const PKCS8_PREFIX = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

export const publicKeyFromSeed = (seed: Uint8Array): Uint8Array => ed25519.getPublicKey(seed);

/** Ed25519 signatures are deterministic, so both backends produce the same bytes. */
export async function makeSigner(seed: Uint8Array): Promise<(message: Uint8Array) => Promise<Uint8Array>> {
  if ((await backend()) === 'webcrypto') {
    try {
      const key = await crypto.subtle.importKey(
        'pkcs8',
        concat(PKCS8_PREFIX, seed) as Uint8Array<ArrayBuffer>,
        { name: 'Ed25519' },
        false,
        ['sign'],
      );
      return async (message) => new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, message as Uint8Array<ArrayBuffer>));
    } catch {
      // Some platforms verify but cannot import private keys; noble signs identically.
    }
  }
  const secret = seed.slice();
  return async (message) => ed25519.sign(message, secret);
}
