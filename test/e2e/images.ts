/** Test images: a JPEG drawn by the browser, with a hand-built EXIF block holding a GPS location spliced in. */
import type { Page } from 'playwright-core';

/** A JPEG the browser draws (so it is a real, decodable image), in a colour of our choice. */
export async function drawJpeg(page: Page, hue: number, label: string): Promise<Buffer> {
  const base64 = await page.evaluate(
    ([h, text]) => {
      const c = document.createElement('canvas');
      c.width = 800;
      c.height = 600;
      const g = c.getContext('2d')!;
      const grad = g.createLinearGradient(0, 0, 800, 600);
      grad.addColorStop(0, `hsl(${h} 70% 45%)`);
      grad.addColorStop(1, `hsl(${(h + 60) % 360} 70% 65%)`);
      g.fillStyle = grad;
      g.fillRect(0, 0, 800, 600);
      g.fillStyle = '#fff';
      g.font = 'bold 72px sans-serif';
      g.fillText(text, 60, 320);
      return c.toDataURL('image/jpeg', 0.9).split(',')[1]!;
    },
    [hue, label] as const,
  );
  return Buffer.from(base64, 'base64');
}

/**
 * Insert an APP1 "Exif" segment right after SOI: IFD0 with Make and a GPS
 * IFD pointer; the GPS IFD holds latitude/longitude as degrees, minutes,
 * seconds (little-endian TIFF).
 */
export function withGps(jpeg: Buffer, lat: [number, number, number], lon: [number, number, number]): Buffer {
  const tiff = Buffer.alloc(150);
  tiff.write('II', 0, 'ascii');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  const entry = (at: number, tag: number, type: number, count: number, value: number | string) => {
    tiff.writeUInt16LE(tag, at);
    tiff.writeUInt16LE(type, at + 2);
    tiff.writeUInt32LE(count, at + 4);
    if (typeof value === 'string') tiff.write(value, at + 8, 'ascii');
    else tiff.writeUInt32LE(value, at + 8);
  };
  // IFD0 at 8: 2 entries, then next-IFD = 0; Make's text at 38.
  tiff.writeUInt16LE(2, 8);
  entry(10, 0x010f, 2, 10, 38);
  entry(22, 0x8825, 4, 1, 48);
  tiff.writeUInt32LE(0, 34);
  tiff.write('EffigyCam\0', 38, 'ascii');
  // GPS IFD at 48: 4 entries; rationals at 102 and 126.
  tiff.writeUInt16LE(4, 48);
  entry(50, 0x0001, 2, 2, 'N');
  entry(62, 0x0002, 5, 3, 102);
  entry(74, 0x0003, 2, 2, 'E');
  entry(86, 0x0004, 5, 3, 126);
  tiff.writeUInt32LE(0, 98);
  const rationals = (at: number, [d, m, s]: [number, number, number]) => {
    tiff.writeUInt32LE(d, at);
    tiff.writeUInt32LE(1, at + 4);
    tiff.writeUInt32LE(m, at + 8);
    tiff.writeUInt32LE(1, at + 12);
    tiff.writeUInt32LE(Math.round(s * 100), at + 16);
    tiff.writeUInt32LE(100, at + 20);
  };
  rationals(102, lat);
  rationals(126, lon);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

/**
 * A Y4M video (what Chromium's fake camera plays, --use-file-for-fake-video-
 * capture) showing one QR code of `text`: the camera "sees" it.
 */
export async function qrVideo(text: string): Promise<Buffer> {
  const { encode } = await import('uqr');
  const qr = encode(text, { ecc: 'M', border: 4 });
  const size = 480;
  const scale = Math.floor(size / qr.size);
  const offset = Math.floor((size - qr.size * scale) / 2);
  const y = Buffer.alloc(size * size, 255);
  for (let row = 0; row < qr.size; row++) {
    for (let col = 0; col < qr.size; col++) {
      if (!qr.data[row]![col]) continue;
      for (let dy = 0; dy < scale; dy++)
        y.fill(
          0,
          (offset + row * scale + dy) * size + offset + col * scale,
          (offset + row * scale + dy) * size + offset + (col + 1) * scale,
        );
    }
  }
  const chroma = Buffer.alloc((size / 2) * (size / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${size} H${size} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]);
}
