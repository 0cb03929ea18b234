import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { afterEach, describe, expect, it } from 'vitest';
import { backend, checkPublicKey, concat, forceBackend, identityText, verify, type Backend } from '../../src/protocol/index.ts';
import { hex } from './vectors.compute.ts';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (b: Uint8Array) => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n);
const toLe = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

// RFC 8032 §7.1, test 2.
const RFC = {
  secret: hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb'),
  pub: hex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'),
  msg: hex('72'),
  sig: hex(
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  ),
};

/** A signature whose R has a small-order component: valid under a cofactored check only. */
function mixedOrderSignature(secret: Uint8Array, message: Uint8Array) {
  const { scalar } = ed25519.utils.getExtendedPublicKey(secret);
  const pub = ed25519.getPublicKey(secret);
  const torsion = ed25519.Point.fromBytes(hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'));
  const r = 12345678901234567890n;
  const R = ed25519.Point.BASE.multiply(r).add(torsion).toBytes();
  const k = le(sha512(concat(R, pub, message))) % L;
  const s = (r + k * scalar) % L;
  return { pub, sig: concat(R, toLe(s)) };
}

const backends: Backend[] = ['webcrypto', 'noble'];

afterEach(() => forceBackend(undefined));

describe('platform', () => {
  it('detects WebCrypto Ed25519 here', async () => {
    expect(await backend()).toBe('webcrypto');
  });
});

describe.each(backends)('pinned verification rule on %s', (b) => {
  const run = async (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => {
    forceBackend(b);
    return verify(pub, msg, sig, `${b}:${identityText(pub)}:${Math.random()}`);
  };

  it('accepts the RFC 8032 vector', async () => {
    expect(await run(RFC.pub, RFC.msg, RFC.sig)).toBe(true);
  });

  it('rejects a changed message', async () => {
    expect(await run(RFC.pub, hex('73'), RFC.sig)).toBe(false);
  });

  it('rejects non-canonical S (S + L)', async () => {
    const s = le(RFC.sig.subarray(32)) + L;
    expect(await run(RFC.pub, RFC.msg, concat(RFC.sig.subarray(0, 32), toLe(s)))).toBe(false);
  });

  it('rejects a non-canonical R encoding (y >= p)', async () => {
    const sig = RFC.sig.slice();
    sig.set(hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), 0);
    expect(await run(RFC.pub, RFC.msg, sig)).toBe(false);
  });

  it('rejects a mixed-order R that a cofactored verifier accepts', async () => {
    const { pub, sig } = mixedOrderSignature(RFC.secret, RFC.msg);
    expect(ed25519.verify(sig, RFC.msg, pub)).toBe(true); // noble's own verify is cofactored
    expect(await run(pub, RFC.msg, sig)).toBe(false);
  });
});

describe('public keys', () => {
  it.each([
    ['identity point', '0100000000000000000000000000000000000000000000000000000000000000'],
    ['order 2', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
    ['order 4', '0000000000000000000000000000000000000000000000000000000000000000'],
    ['order 8', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'],
    ['order 8, negative x', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa'],
  ])('rejects the small-order %s', (_, key) => {
    expect(checkPublicKey(hex(key))).toMatchObject({ ok: false, error: { code: 'bad_key' } });
  });

  it('rejects a non-canonical encoding (y = p + 1)', () => {
    expect(checkPublicKey(hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')).ok).toBe(false);
  });

  it('rejects a y with no point', () => {
    expect(checkPublicKey(hex('0200000000000000000000000000000000000000000000000000000000000000')).ok).toBe(false);
  });

  it('accepts a real key', () => {
    expect(checkPublicKey(RFC.pub).ok).toBe(true);
  });
});
