import { describe, expect, it } from 'vitest';
import { decodeBlobChunk, encodeBlobChunk, interestDigest, LIMITS, type Identity } from '../../src/protocol/index.ts';
import vectors from '../../docs/protocol-vectors.json' with { type: 'json' };

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

describe('binary blob chunks (§13.1 rule 11)', () => {
  it('round-trip, and read the vector', () => {
    const data = crypto.getRandomValues(new Uint8Array(LIMITS.blobBinaryBytes));
    const back = decodeBlobChunk(encodeBlobChunk({ re: 'b17', offset: 2 ** 40, total: 2 ** 41, data }));
    expect(back.ok && { ...back.value, data: [...back.value.data.subarray(0, 4)] }).toEqual({
      re: 'b17',
      offset: 2 ** 40,
      total: 2 ** 41,
      data: [...data.subarray(0, 4)],
    });
    const v = decodeBlobChunk(hex(vectors.blobChunk.hex));
    expect(v.ok && [v.value.re, v.value.offset, v.value.total, new TextDecoder().decode(v.value.data)]).toEqual(['6', 0, 3, 'abc']);
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['no id', Uint8Array.from([0, ...new Uint8Array(16)])],
    ['an id longer than its message', Uint8Array.from([9, 0x41, 0x42])],
    ['an id that is not printable ASCII', Uint8Array.from([1, 0x20, ...new Uint8Array(16)])],
    ['an offset beyond 2^53', Uint8Array.from([1, 0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...new Uint8Array(8)])],
    ['more data than a chunk holds', new Uint8Array(1 + 1 + 16 + LIMITS.blobBinaryBytes + 1).fill(0x41, 1, 2).fill(1, 0, 1)],
  ])('refuses %s', (_, message) => {
    expect(decodeBlobChunk(message).ok).toBe(false);
  });

  it('refuses to write what a receiver would refuse', () => {
    expect(() => encodeBlobChunk({ re: '', offset: 0, total: 0, data: new Uint8Array(0) })).toThrow();
    expect(() => encodeBlobChunk({ re: 'x', offset: 0, total: 0, data: new Uint8Array(LIMITS.blobBinaryBytes + 1) })).toThrow();
  });
});

describe('interest digests (§13.7)', () => {
  it('name a set: order and repeats do not matter', () => {
    const ids = vectors.interests.identities as Identity[];
    expect(interestDigest(ids)).toBe(vectors.interests.digest);
    expect(interestDigest([...ids].reverse().concat(ids[0]!))).toBe(vectors.interests.digest);
    expect(interestDigest([])).toBe(vectors.interests.empty);
    expect(interestDigest(ids.slice(1))).not.toBe(vectors.interests.digest);
  });
});
