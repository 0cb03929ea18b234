/** Pairing by code (§9.5): the code's form, what it derives, and the sealed messages. */
import { describe, expect, it } from 'vitest';
import {
  derivePairing,
  formatPairingCode,
  generateKeyPair,
  newPairingCode,
  openPair,
  parsePairingCode,
  parseSignal,
  sealPair,
} from '../../src/protocol/index.ts';

describe('pairing codes', () => {
  it('are 12 digits, read in groups of four, typed with any spacing, or scanned as a link', () => {
    const code = newPairingCode();
    expect(code).toMatch(/^\d{12}$/);
    expect(formatPairingCode('123456789012')).toBe('1234 5678 9012');
    for (const typed of ['1234 5678 9012', '1234-5678-9012', ' 123456789012 ', 'https://effigy.example/#/pair/123456789012']) {
      expect(parsePairingCode(typed)).toEqual({ ok: true, value: '123456789012' });
    }
    const short = parsePairingCode('1234 5678');
    expect(!short.ok && short.error.message).toBe('a pairing code is 12 digits; this has 8');
    expect(parsePairingCode('1234 abcd 9012').ok).toBe(false);
  });

  it('draws every digit evenly (bytes of 250 and above are redrawn, not folded)', () => {
    let calls = 0;
    // A source that offers only high bytes first: a biased generator would use them.
    const random = (n: number) => {
      calls++;
      return Uint8Array.from({ length: n }, (_, i) => (calls === 1 ? 250 + (i % 6) : (i * 7) % 250));
    };
    const code = newPairingCode(random);
    expect(calls).toBe(2);
    expect(code).toBe('074185296307');
  });

  it('derives the same rendezvous identity, room and key on both sides, and another for another code', async () => {
    const a = await derivePairing('1234 5678 9012');
    const b = await derivePairing('123456789012');
    expect(b.keys.identity).toBe(a.keys.identity);
    expect(b.room).toBe(a.room);
    expect(a.room).toBe(`pair-${a.keys.identity.slice(1)}`);
    expect(a.room).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const other = await derivePairing('123456789013');
    expect(other.keys.identity).not.toBe(a.keys.identity);
  });

  it('seals messages only the same code opens, and as a valid peer signal', async () => {
    const a = await derivePairing('111122223333');
    const wrong = await derivePairing('111122223334');
    const synod = (await generateKeyPair()).identity;
    const signal = sealPair(a.box, { op: 'offer', synod, name: 'Ada' });
    expect(parseSignal(signal).ok).toBe(true);
    expect(openPair(a.box, signal)).toEqual({ ok: true, value: { op: 'offer', synod, name: 'Ada' } });
    const refused = openPair(wrong.box, signal);
    expect(!refused.ok && refused.error.code).toBe('decrypt_failed');
    // A box that opens but does not hold a pairing message is refused too.
    const odd = sealPair(a.box, { op: 'done', device: synod });
    const tampered = { ...odd, box: odd.box.slice(0, -2) + (odd.box.endsWith('AA') ? 'AB' : 'AA') };
    expect(openPair(a.box, tampered).ok).toBe(false);
  });
});
