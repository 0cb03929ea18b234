/**
 * Content addressing: a name is SHA-256 of the exact bytes. noble's sync
 * SHA-256 beats a WebCrypto round trip for entry-sized inputs (< 15 KiB),
 * and the answer is the same either way.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { hashText, type Hash } from './encoding.ts';

export const digest = (bytes: Uint8Array): Uint8Array => sha256(bytes);
export const hashOf = (bytes: Uint8Array): Hash => hashText(sha256(bytes));
export { sha256 };
