/** The web client's pure helpers: metadata detection in image containers, identity input. */
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/protocol/index.ts';
import { parseIdentityInput } from '../../web/src/lib/format.ts';
import { metadataBlocks, sniff } from '../../web/src/lib/image.ts';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const le32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
const jpegSegment = (marker: number, payload: string) => [
  0xff,
  marker,
  ((payload.length + 2) >> 8) & 255,
  (payload.length + 2) & 255,
  ...[...payload].map((c) => c.charCodeAt(0)),
];
const pngChunk = (type: string, data: string) => [...be32(data.length), ...bytes(type, data), 0, 0, 0, 0];
const riffChunk = (type: string, data: string) => [...bytes(type), ...le32(data.length), ...bytes(data), ...(data.length % 2 ? [0] : [])];

describe('metadataBlocks', () => {
  it('finds EXIF, XMP and IPTC in a JPEG, and nothing in a clean one', () => {
    const clean = Uint8Array.from([0xff, 0xd8, ...jpegSegment(0xe0, 'JFIF\0\x01\x01'), 0xff, 0xda, 0, 2, 0xff, 0xd9]);
    expect(sniff(clean)).toBe('image/jpeg');
    expect(metadataBlocks(clean)).toEqual([]);
    const dirty = Uint8Array.from([
      0xff,
      0xd8,
      ...jpegSegment(0xe0, 'JFIF\0'),
      ...jpegSegment(0xe1, 'Exif\0\0II*\0'),
      ...jpegSegment(0xe1, 'http://ns.adobe.com/xap/1.0/\0<x/>'),
      ...jpegSegment(0xed, 'Photoshop 3.0\0'),
      0xff,
      0xda,
      0,
      2,
      0xff,
      0xd9,
    ]);
    expect(metadataBlocks(dirty).sort()).toEqual(['EXIF', 'IPTC', 'XMP']);
  });

  it('finds eXIf and XMP text chunks in a PNG', () => {
    const png = (...chunks: number[][]) =>
      Uint8Array.from([...bytes('\x89PNG\r\n\x1a\n'), ...pngChunk('IHDR', '0123456789abc'), ...chunks.flat(), ...pngChunk('IEND', '')]);
    expect(metadataBlocks(png())).toEqual([]);
    expect(metadataBlocks(png(pngChunk('eXIf', 'II*\0')))).toEqual(['EXIF']);
    expect(metadataBlocks(png(pngChunk('iTXt', 'XML:com.adobe.xmp\0\0\0\0\0<x/>')))).toEqual(['XMP']);
  });

  it('finds EXIF and XMP chunks in a WebP', () => {
    const webp = (...chunks: number[][]) => {
      const body = [...bytes('WEBP'), ...chunks.flat()];
      return Uint8Array.from([...bytes('RIFF'), ...le32(body.length), ...body]);
    };
    expect(metadataBlocks(webp(riffChunk('VP8X', '0123456789')))).toEqual([]);
    expect(metadataBlocks(webp(riffChunk('VP8X', '0123456789'), riffChunk('EXIF', 'II*'), riffChunk('XMP ', '<x/>'))).sort()).toEqual([
      'EXIF',
      'XMP',
    ]);
  });

  it('does not run off the end of a truncated file', () => {
    expect(metadataBlocks(Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, 0xff]))).toEqual([]);
    expect(metadataBlocks(bytes('\x89PNG\r\n\x1a\n', [0, 0, 0]))).toEqual([]);
  });
});

describe('parseIdentityInput', () => {
  it('accepts an identity, alone, padded, or inside an identity link', async () => {
    const { identity } = await generateKeyPair();
    for (const input of [
      identity,
      `  ${identity}\n`,
      `https://effigy.example/#/id/${identity}`,
      `https://effigy.example/#/id/${encodeURIComponent(identity)}`,
    ]) {
      expect(parseIdentityInput(input)).toEqual({ ok: true, value: identity });
    }
  });

  it('explains what is wrong otherwise', () => {
    expect(parseIdentityInput('')).toMatchObject({ ok: false, message: 'Paste or scan an identity first.' });
    for (const bad of ['hello', '@short', '&' + 'A'.repeat(43), '@' + 'A'.repeat(43)]) {
      const r = parseIdentityInput(bad);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toMatch(/^That is not a valid identity/);
    }
  });
});
