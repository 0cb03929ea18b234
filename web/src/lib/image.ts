/**
 * Images in and out. Outgoing images are decoded and drawn onto a canvas,
 * which keeps the pixels and nothing else: EXIF (location, camera, time),
 * XMP and IPTC stay behind. The result is checked twice before it is
 * stored: by a scan of its container for metadata blocks, and by exifr for
 * GPS. Incoming images get the same checks before they are shown; one that
 * still carries metadata is not displayed (the design: feeds with
 * unencrypted EXIF images are invalid).
 */

/** Largest file a person may pick (it is shrunk before posting). */
export const MAX_PICK_BYTES = 40 * 1024 * 1024;
/** Largest image we post, after re-encoding. */
export const MAX_POST_BYTES = 2 * 1024 * 1024;
/** Largest image from a peer we download and show. */
export const MAX_INCOMING_BYTES = 5 * 1024 * 1024;
export const MAX_EDGE = 2048;

export type Mime = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif' | 'image/avif';

export class ImageError extends Error {}

const ascii = (b: Uint8Array, at: number, text: string): boolean => {
  if (at + text.length > b.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
};
const u32be = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const u32le = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** The image format by its magic bytes, whatever it claims to be. */
export function sniff(b: Uint8Array): Mime | null {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (ascii(b, 0, '\x89PNG\r\n\x1a\n')) return 'image/png';
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return 'image/webp';
  if (ascii(b, 0, 'GIF8')) return 'image/gif';
  if (ascii(b, 4, 'ftyp') && (ascii(b, 8, 'avif') || ascii(b, 8, 'avis'))) return 'image/avif';
  return null;
}

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

export interface Inspection {
  /** Metadata blocks found ("EXIF", "XMP", "IPTC"). */
  blocks: string[];
  /** A location, when the EXIF holds one. */
  gps: { latitude: number; longitude: number } | null;
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

export interface PreparedImage {
  bytes: Uint8Array;
  mime: 'image/jpeg';
  width: number;
  height: number;
  /** What the original carried and we removed. */
  removed: Inspection;
  originalSize: number;
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

/** What to tell a person about what was stripped. */
export function removedText(r: Inspection): string {
  if (r.gps) return 'Location and other photo metadata removed.';
  if (r.blocks.length) return `Photo metadata removed (${r.blocks.join(', ')}).`;
  return 'No metadata found; re-encoded to be sure.';
}
