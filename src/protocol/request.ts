/**
 * Signed HTTP requests (docs/protocol.md §15): an identity authorizes one
 * HTTP request — a blob upload — with a signature instead of a password.
 *
 * The statement is four lines of UTF-8, joined by "\n", no trailing newline:
 *
 *   METHOD        upper-case, e.g. PUT
 *   path          the canonical path, e.g. /api/blobs/&<43 base64url>
 *                 (never percent-encoded: the verifier rebuilds it from the
 *                 decoded route, so an encoded or unencoded URL signs alike)
 *   time          Unix milliseconds, decimal, no sign or leading zeros
 *   length        Content-Length in bytes, decimal, no sign or leading zeros
 *
 * and the signature is Ed25519 under the `request` signing domain. The
 * statement binds the exact bytes to be stored (the path names the content
 * hash and the length) and a time, which a verifier takes from 5 minutes
 * before its clock to 1 minute after it. A verifier accepts each signature
 * once (it remembers it until its time leaves the window), so a captured
 * request cannot be replayed to it.
 */
import { utf8 } from './bytes.ts';
import type { SignatureText } from './encoding.ts';
import { verifySignature, type KeyPair } from './keys.ts';

export const REQUEST_HEADERS = {
  identity: 'Effigy-Identity',
  time: 'Effigy-Time',
  signature: 'Effigy-Signature',
} as const;

/** How far a request's time may lie behind the verifier's clock (a slow client clock, a long queue). */
export const REQUEST_WINDOW_MS = 5 * 60_000;
/** How far it may lie ahead: a client clock a little fast, never a signature that stays good for long. */
export const REQUEST_FUTURE_MS = 60_000;

export interface RequestFields {
  /** HTTP method, upper-case ASCII letters. */
  method: string;
  /** Canonical path: printable ASCII without spaces, starting with "/". */
  path: string;
  /** Unix milliseconds. */
  time: number;
  /** Body length in bytes (the Content-Length). */
  length: number;
}

const METHOD = /^[A-Z]{1,16}$/;
const PATH = /^\/[\x21-\x7e]{0,1023}$/;
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

const count = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** The statement's text, or null when a field is out of its form. */
export function requestStatementText(f: RequestFields): string | null {
  if (!METHOD.test(f.method) || !PATH.test(f.path) || !count(f.time) || !count(f.length)) return null;
  return `${f.method}\n${f.path}\n${f.time}\n${f.length}`;
}

/** The signed bytes (before the domain prefix), or null when a field is out of its form. */
export function requestStatement(f: RequestFields): Uint8Array | null {
  const text = requestStatementText(f);
  return text === null ? null : utf8(text);
}

/** The canonical decimal form used by Effigy-Time and Content-Length: a safe integer, or null. */
export function parseDecimal(text: string | null | undefined): number | null {
  if (typeof text !== 'string' || !DECIMAL.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** Whether `time` is within the window around `now`: at most REQUEST_WINDOW_MS behind, REQUEST_FUTURE_MS ahead. */
export const requestTimeOk = (time: number, now: number): boolean => time >= now - REQUEST_WINDOW_MS && time <= now + REQUEST_FUTURE_MS;

/** Until when a verifier remembers an accepted signature: after that its time is stale anyway. */
export const requestMemoryUntil = (time: number): number => time + REQUEST_WINDOW_MS;

/** The three Effigy-* headers for a request. Throws on a programming error (malformed fields). */
export async function signRequest(keys: KeyPair, f: RequestFields): Promise<Record<string, string>> {
  const statement = requestStatement(f);
  if (!statement) throw new TypeError('invalid request fields');
  const signature: SignatureText = await keys.sign('request', statement);
  return {
    [REQUEST_HEADERS.identity]: keys.identity,
    [REQUEST_HEADERS.time]: String(f.time),
    [REQUEST_HEADERS.signature]: signature,
  };
}

/** Does `signature` by `identity` cover exactly these fields? (The time window is the caller's check.) */
export async function verifyRequest(identity: string, f: RequestFields, signature: string): Promise<boolean> {
  const statement = requestStatement(f);
  return statement !== null && verifySignature(identity, 'request', statement, signature);
}
