/** The web client's pure helpers: metadata detection in image containers, identity input. */
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/protocol/index.ts';
import { guessDeviceName, parseIdentityInput, parseServerAddress } from '../../web/src/lib/format.ts';
import { hashtagsOf, TEXT_TOKENS } from '../../web/src/lib/text.ts';
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
    for (const bad of ['hello', '@short', '&' + 'A'.repeat(43)]) {
      const r = parseIdentityInput(bad);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toMatch(/^That is not a valid identity/);
    }
    // The right form, but a key no one can hold (a small-order point): said apart.
    const weak = parseIdentityInput('@' + 'A'.repeat(43));
    expect(!weak.ok && weak.message).toMatch(/^That looks like an identity, but it is not a usable key/);
  });
});

describe('note text', () => {
  it('finds hashtags (any script, not inside words, links or entities), lower-cased', () => {
    expect(hashtagsOf('Sunset at the #Beach, #été and #日本! Not a#tag, not &#38; nor https://x.example/#frag')).toEqual([
      'beach',
      'été',
      '日本',
    ]);
  });

  it('marks mentions and web addresses, leaving trailing punctuation out', () => {
    const id = '@PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw';
    const found = [...`Hi ${id}, see https://effigy.example/a?b=1.`.matchAll(TEXT_TOKENS)].map((m) => m[2] ?? m[3]);
    expect(found).toEqual([id, 'https://effigy.example/a?b=1']);
  });
});

describe('typed addresses and names', () => {
  it('refuses a server address with spaces instead of escaping it into a host', () => {
    const r = parseServerAddress('not a url');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toBe('"not a url" is not a server address: a server is a name like effigy.example.org.');
    const good = parseServerAddress('effigy.example.org');
    expect(good.ok && good.value.toString()).toBe('https://effigy.example.org/');
    const local = parseServerAddress('ws://127.0.0.1:8787/room/main');
    expect(local.ok && local.value.host).toBe('127.0.0.1:8787');
  });

  it('reads an identity from an invite link, and says once what is wrong with a bad one', () => {
    const id = '@PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw';
    expect(parseIdentityInput(`https://effigy.example/#/add/${id}`)).toEqual({ ok: true, value: id });
    const bad = parseIdentityInput('@not-an-identity');
    expect(!bad.ok && bad.message.match(/identity/g)?.length).toBe(1);
  });

  it('names a first device after its browser and system', () => {
    expect(guessDeviceName('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36')).toBe(
      'Chrome on Android',
    );
    expect(
      guessDeviceName(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1',
      ),
    ).toBe('Safari on iPhone');
    expect(guessDeviceName('Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0')).toBe('Firefox on Linux');
  });
});
