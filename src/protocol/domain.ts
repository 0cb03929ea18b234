/**
 * Domain separation: every signature covers `context || 0x00 || message`,
 * with a distinct context per purpose, so a signature made for one purpose
 * (an entry) can never be replayed as another (a session, a membership).
 */
import { concat, utf8 } from './bytes.ts';

export const SIGNING_CONTEXTS = {
  entry: 'effigy/v1/entry',
  session: 'effigy/v1/session',
  membership: 'effigy/v1/membership',
  request: 'effigy/v1/request',
} as const;

export type SigningPurpose = keyof typeof SIGNING_CONTEXTS;

const prefixes = Object.fromEntries(Object.entries(SIGNING_CONTEXTS).map(([k, v]) => [k, concat(utf8(v), new Uint8Array([0]))])) as Record<
  SigningPurpose,
  Uint8Array
>;

/** `context || 0x00`, for callers that build the signed bytes in place. */
export const domainPrefix = (purpose: SigningPurpose): Uint8Array => prefixes[purpose];

export const domainMessage = (purpose: SigningPurpose, message: Uint8Array): Uint8Array => concat(prefixes[purpose], message);
