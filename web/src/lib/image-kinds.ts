/**
 * What the app needs of images at start-up (limits, the format by its magic
 * bytes, the words for what was stripped), apart from the decoding and
 * scanning in image.ts, which loads when an image is first picked or shown.
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

export const ascii = (b: Uint8Array, at: number, text: string): boolean => {
  if (at + text.length > b.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
};
export const u32be = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
export const u32le = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** The image format by its magic bytes, whatever it claims to be. */
export function sniff(b: Uint8Array): Mime | null {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (ascii(b, 0, '\x89PNG\r\n\x1a\n')) return 'image/png';
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return 'image/webp';
  if (ascii(b, 0, 'GIF8')) return 'image/gif';
  if (ascii(b, 4, 'ftyp') && (ascii(b, 8, 'avif') || ascii(b, 8, 'avis'))) return 'image/avif';
  return null;
}

export interface Inspection {
  /** Metadata blocks found ("EXIF", "XMP", "IPTC"). */
  blocks: string[];
  /** A location, when the EXIF holds one. */
  gps: { latitude: number; longitude: number } | null;
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

/** What to tell a person about what was stripped. */
export function removedText(r: Inspection): string {
  if (r.gps) return 'Location and other photo metadata removed.';
  if (r.blocks.length) return `Photo metadata removed (${r.blocks.join(', ')}).`;
  return 'No metadata found; re-encoded to be sure.';
}
