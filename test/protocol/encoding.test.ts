import { describe, expect, it } from 'vitest';
import {
  decodeHash,
  decodeIdentityText,
  decodeSignature,
  fromBase64url,
  hashOf,
  identityText,
  isWellFormed,
  toBase64url,
  utf8,
  utf8Length,
} from '../../src/protocol/index.ts';

describe('canonical base64url', () => {
  it('round-trips bytes', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const r = fromBase64url(toBase64url(bytes), 32);
    expect(r.ok && [...r.value]).toEqual([...bytes]);
  });

  it.each([
    ['padding', 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='],
    ['standard alphabet', 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+'],
    ['non-zero trailing bits', 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9'],
    ['wrong length', 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg'],
    ['whitespace', ' AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8'],
  ])('rejects %s', (_, text) => {
    expect(fromBase64url(text, 32)).toMatchObject({ ok: false, error: { code: 'bad_encoding' } });
  });
});

describe('sigiled forms', () => {
  const key = new Uint8Array(32).fill(9);
  it('identity is @ + 43 characters, hash is & + 43', () => {
    expect(identityText(key)).toMatch(/^@[A-Za-z0-9_-]{43}$/);
    expect(hashOf(utf8('x'))).toMatch(/^&[A-Za-z0-9_-]{43}$/);
  });
  it('a hash is never accepted as an identity, nor the reverse', () => {
    const h = hashOf(utf8('x'));
    expect(decodeIdentityText(h).ok).toBe(false);
    expect(decodeHash(identityText(key)).ok).toBe(false);
    expect(decodeHash(h).ok).toBe(true);
  });
  it('signatures are exactly 86 characters', () => {
    expect(decodeSignature('A'.repeat(85)).ok).toBe(false);
    expect(decodeSignature('A'.repeat(86)).ok).toBe(true);
    expect(decodeSignature('B'.repeat(86)).ok).toBe(false); // trailing bits set
  });
});

describe('UTF-8 lengths', () => {
  it('counts bytes, not code units', () => {
    for (const s of ['', 'abc', 'é', '日本', '🦊', 'a🦊é日']) expect(utf8Length(s)).toBe(utf8(s).length);
  });
  it('flags lone surrogates', () => {
    expect(isWellFormed('ok 🦊')).toBe(true);
    expect(isWellFormed('bad \ud83e')).toBe(false);
  });
});
