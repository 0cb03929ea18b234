import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  forceBackend,
  generateKeyPair,
  hashOf,
  keyPairFromSeed,
  parseDecimal,
  REQUEST_HEADERS,
  REQUEST_FUTURE_MS,
  REQUEST_WINDOW_MS,
  requestStatementText,
  requestMemoryUntil,
  requestTimeOk,
  signRequest,
  utf8,
  verifyRequest,
  verifySignature,
} from '../../src/protocol/index.ts';
import { hex, SEED_A, toHex } from './vectors.compute.ts';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

/** The §15 vector: key A uploads the 3 bytes `abc`. */
const VECTOR = {
  fields: { method: 'PUT', path: `/api/blobs/&ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0`, time: 1700000000000, length: 3 },
  statementHex:
    '5055540a2f6170692f626c6f62732f26756e6757763438427a2d704251554465586134694937414459614f57463371637442445f596649414661300a313730303030303030303030300a33',
  identity: '@11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
  signature: 'UxLKmTOX956lsAQ9_XsaPl0g_mmzMEGFTfX1xzT1Q-c-L58IntDepskPunEOr4LemBVbS8i-Id7HYTOKRABhBg',
};

describe('signed requests', () => {
  it('reproduces the §15 vector and the doc quotes it', async () => {
    const a = await keyPairFromSeed(hex(SEED_A));
    expect(VECTOR.fields.path).toBe(`/api/blobs/${hashOf(utf8('abc'))}`);
    const text = requestStatementText(VECTOR.fields);
    expect(text).toBe('PUT\n/api/blobs/&ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0\n1700000000000\n3');
    expect(toHex(utf8(text!))).toBe(VECTOR.statementHex);
    const headers = await signRequest(a, VECTOR.fields);
    expect(headers).toEqual({
      [REQUEST_HEADERS.identity]: VECTOR.identity,
      [REQUEST_HEADERS.time]: '1700000000000',
      [REQUEST_HEADERS.signature]: VECTOR.signature,
    });
    for (const q of [VECTOR.statementHex, VECTOR.signature, VECTOR.identity]) expect(doc).toContain(q);
  });

  it.each(['webcrypto', 'noble'] as const)('the vector verifies on %s, under the request domain only', async (backend) => {
    forceBackend(backend);
    try {
      expect(await verifyRequest(VECTOR.identity, VECTOR.fields, VECTOR.signature)).toBe(true);
      const statement = utf8(requestStatementText(VECTOR.fields)!);
      expect(await verifySignature(VECTOR.identity, 'request', statement, VECTOR.signature)).toBe(true);
      expect(await verifySignature(VECTOR.identity, 'entry', statement, VECTOR.signature)).toBe(false);
      expect(await verifySignature(VECTOR.identity, 'session', statement, VECTOR.signature)).toBe(false);
    } finally {
      forceBackend(undefined);
    }
  });

  it('binds every field', async () => {
    const k = await generateKeyPair();
    const f = { method: 'PUT', path: `/api/blobs/${hashOf(utf8('x'))}`, time: Date.now(), length: 1 };
    const sig = (await signRequest(k, f))[REQUEST_HEADERS.signature]!;
    expect(await verifyRequest(k.identity, f, sig)).toBe(true);
    expect(await verifyRequest(k.identity, { ...f, method: 'GET' }, sig)).toBe(false);
    expect(await verifyRequest(k.identity, { ...f, path: `/api/blobs/${hashOf(utf8('y'))}` }, sig)).toBe(false);
    expect(await verifyRequest(k.identity, { ...f, time: f.time + 1 }, sig)).toBe(false);
    expect(await verifyRequest(k.identity, { ...f, length: 2 }, sig)).toBe(false);
    expect(await verifyRequest((await generateKeyPair()).identity, f, sig)).toBe(false);
    // A different last byte, whatever the signature happened to end with.
    expect(await verifyRequest(k.identity, f, sig.slice(0, -2) + (sig.endsWith('AA') ? 'AQ' : 'AA'))).toBe(false);
    expect(await verifyRequest("'; DROP TABLE drops; --", f, sig)).toBe(false);
    expect(await verifyRequest(k.identity, f, "'; DROP TABLE drops; --")).toBe(false);
  });

  it('refuses malformed fields instead of signing ambiguous statements', async () => {
    const k = await generateKeyPair();
    const f = { method: 'PUT', path: '/api/blobs/x', time: 1, length: 1 };
    for (const bad of [
      { ...f, method: 'put' },
      { ...f, method: 'P\nUT' },
      { ...f, path: 'api/blobs/x' },
      { ...f, path: '/api/blobs/x\n1' },
      { ...f, path: '/api/blobs/a b' },
      { ...f, time: -1 },
      { ...f, time: 1.5 },
      { ...f, length: Number.MAX_SAFE_INTEGER + 1 },
      { ...f, length: NaN },
    ]) {
      expect(requestStatementText(bad), JSON.stringify(bad)).toBeNull();
      await expect(signRequest(k, bad)).rejects.toThrow(TypeError);
      expect(await verifyRequest(k.identity, bad, 'A'.repeat(86))).toBe(false);
    }
  });

  it('parses only canonical decimals', () => {
    expect(parseDecimal('0')).toBe(0);
    expect(parseDecimal('1700000000000')).toBe(1700000000000);
    for (const bad of ['', '01', '+1', '-1', '1.0', '1e3', ' 1', '0x10', '99999999999999999', null, undefined, "1'; --"]) {
      expect(parseDecimal(bad), String(bad)).toBeNull();
    }
  });

  it('accepts times from 5 minutes behind to 1 minute ahead, and is remembered until its time leaves the window (§15.4)', () => {
    const now = 1_700_000_000_000;
    expect(REQUEST_WINDOW_MS).toBe(300_000);
    expect(REQUEST_FUTURE_MS).toBe(60_000);
    // The table of §15.4.
    const table: [number, boolean][] = [
      [1_699_999_700_000, true],
      [1_699_999_699_999, false],
      [1_700_000_060_000, true],
      [1_700_000_060_001, false],
      // A signature dated 299 s ahead would otherwise stay good for ten minutes.
      [1_700_000_299_000, false],
    ];
    for (const [time, ok] of table) expect(requestTimeOk(time, now), String(time)).toBe(ok);
    expect(requestTimeOk(now, now)).toBe(true);
    expect(requestMemoryUntil(now)).toBe(1_700_000_300_000);
  });
});
