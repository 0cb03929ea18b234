/**
 * Images in and out. Outgoing images are decoded and drawn onto a canvas,
 * which keeps the pixels and nothing else: EXIF (location, camera, time),
 * XMP and IPTC stay behind. The result is checked twice before it is
 * stored: by a scan of its container for metadata blocks, and by exifr for
 * GPS. Incoming images get the same checks before they are shown; one that
 * still carries metadata is not displayed (the design: feeds with
 * unencrypted EXIF images are invalid).
 */
import {
  ascii,
  ImageError,
  MAX_EDGE,
  MAX_PICK_BYTES,
  MAX_POST_BYTES,
  sniff,
  u32be,
  u32le,
  type Inspection,
  type PreparedImage,
} from './image-kinds.ts';

export * from './image-kinds.ts';

/** Metadata blocks in an image's container: "EXIF", "XMP", "IPTC". Pure and fast. */
export function metadataBlocks(b: Uint8Array): string[] {
  const found = new Set<string>();
  const kind = sniff(b);
  if (kind === 'image/jpeg') {
    let i = 2;
    while (i + 4 <= b.length && b[i] === 0xff) {
      const marker = b[i + 1]!;
      if (marker === 0xff) {
        i++;
        continue;
      }
      if (marker === 0xd9 || marker === 0xda) break; // end, or start of scan: no more headers
      if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        i += 2;
        continue;
      }
      const length = (b[i + 2]! << 8) | b[i + 3]!;
      const at = i + 4;
      if (marker === 0xe1 && ascii(b, at, 'Exif\0')) found.add('EXIF');
      if (marker === 0xe1 && ascii(b, at, 'http://ns.adobe.com/')) found.add('XMP');
      if (marker === 0xed && ascii(b, at, 'Photoshop 3.0')) found.add('IPTC');
      i += 2 + length;
    }
  } else if (kind === 'image/png') {
    let i = 8;
    while (i + 8 <= b.length) {
      const length = u32be(b, i);
      const at = i + 8;
      if (ascii(b, i + 4, 'eXIf')) found.add('EXIF');
      if (ascii(b, i + 4, 'tEXt') || ascii(b, i + 4, 'iTXt') || ascii(b, i + 4, 'zTXt')) {
        if (ascii(b, at, 'XML:com.adobe.xmp')) found.add('XMP');
        if (ascii(b, at, 'Raw profile type exif') || ascii(b, at, 'Raw profile type APP1')) found.add('EXIF');
        if (ascii(b, at, 'Raw profile type iptc')) found.add('IPTC');
      }
      if (ascii(b, i + 4, 'IEND')) break;
      i += 12 + length;
    }
  } else if (kind === 'image/webp') {
    let i = 12;
    while (i + 8 <= b.length) {
      const length = u32le(b, i + 4);
      if (ascii(b, i, 'EXIF')) found.add('EXIF');
      if (ascii(b, i, 'XMP ')) found.add('XMP');
      i += 8 + length + (length % 2);
    }
  } else if (kind === 'image/gif') {
    for (let i = 0; i + 11 <= b.length; i++) if (ascii(b, i, 'XMP DataXMP')) found.add('XMP');
  }
  return [...found];
}

/** Scan for metadata, and ask exifr for a location (exifr loads on first use). */
export async function inspectImage(bytes: Uint8Array): Promise<Inspection> {
  const blocks = metadataBlocks(bytes);
  const { default: exifr } = await import('exifr');
  let gps: Inspection['gps'] = null;
  try {
    const g = await exifr.gps(bytes);
    if (g && Number.isFinite(g.latitude) && Number.isFinite(g.longitude)) gps = { latitude: g.latitude, longitude: g.longitude };
  } catch {
    // a format exifr does not read: the block scan above still speaks
  }
  if (sniff(bytes) === 'image/avif') {
    try {
      if (await exifr.parse(bytes)) blocks.push('EXIF');
    } catch {
      // nothing readable
    }
  }
  if (gps && !blocks.includes('EXIF')) blocks.push('EXIF');
  return { blocks, gps };
}

function canvasBlob(canvas: HTMLCanvasElement, quality: number): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new ImageError('the browser could not encode the image'))), 'image/jpeg', quality),
  );
}

/**
 * Re-encode a picked file for posting: decoded (orientation applied),
 * shrunk to fit `maxEdge`, drawn on white, saved as JPEG under the size
 * limit, then verified free of metadata. Throws ImageError with a message
 * for the person.
 */
export async function prepareImage(file: Blob & { name?: string }, maxEdge = MAX_EDGE): Promise<PreparedImage> {
  const label = file.name ? `"${file.name}"` : 'The file';
  if (file.size > MAX_PICK_BYTES)
    throw new ImageError(`${label} is ${(file.size / 1048576).toFixed(1)} MB; pick an image under ${MAX_PICK_BYTES / 1048576} MB.`);
  const original = new Uint8Array(await file.arrayBuffer());
  if (!sniff(original) && !file.type.startsWith('image/'))
    throw new ImageError(`${label} is not an image this app can read (JPEG, PNG, WebP, GIF or AVIF).`);
  const removed = await inspectImage(original);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw new ImageError(`${label} could not be decoded as an image.`);
  }
  let edge = maxEdge;
  let quality = 0.85;
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      const scale = Math.min(1, edge / Math.max(bitmap.width, bitmap.height));
      const width = Math.max(1, Math.round(bitmap.width * scale));
      const height = Math.max(1, Math.round(bitmap.height * scale));
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new ImageError('this browser cannot draw images');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, width, height);
      ctx.drawImage(bitmap, 0, 0, width, height);
      const out = new Uint8Array(await (await canvasBlob(canvas, quality)).arrayBuffer());
      if (out.length > MAX_POST_BYTES) {
        if (quality > 0.7) quality = 0.7;
        else edge = Math.round(edge * 0.75);
        continue;
      }
      const check = await inspectImage(out);
      if (check.blocks.length > 0 || check.gps) throw new ImageError('the re-encoded image still carries metadata; it was not posted');
      return { bytes: out, mime: 'image/jpeg', width, height, removed, originalSize: file.size };
    }
  } finally {
    bitmap.close();
  }
  throw new ImageError(`${label} could not be made smaller than ${MAX_POST_BYTES / 1048576} MB.`);
}
