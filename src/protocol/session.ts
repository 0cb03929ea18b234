/**
 * Session authentication: each side sends [identity, head, challenge] and
 * signs the other's challenge. Where the design is naive, the signed bytes
 * here bind a fixed context (the `session` signing domain), the endpoint URL,
 * both identities in signer-then-peer order, and both challenges
 * (peer's then own). So a signature answers one challenge, from one signer to
 * one peer, at one endpoint: it cannot be replayed to another room (as
 * Nostr's relay auth binds the relay URL), reflected back to its sender, or
 * reused as an entry signature.
 */
import { concat, lengthPrefixed, randomBytes, utf8 } from './bytes.ts';
import { fromBase64url, toBase64url, type SignatureText } from './encoding.ts';
import { decodeIdentity, verifySignature, type KeyPair } from './keys.ts';
import { LIMITS } from './limits.ts';

export const newChallenge = (): string => toBase64url(randomBytes(LIMITS.challengeBytes));

/**
 * One spelling per endpoint: ws/wss become http/https, host lower-cased,
 * default port, query and fragment dropped. Both sides compute it from the
 * URL they used (client) or were reached at (server).
 */
export function canonicalEndpoint(url: string): string {
  const u = new URL(url);
  const scheme = u.protocol === 'ws:' ? 'http:' : u.protocol === 'wss:' ? 'https:' : u.protocol;
  const port = u.port && !((scheme === 'http:' && u.port === '80') || (scheme === 'https:' && u.port === '443')) ? `:${u.port}` : '';
  return `${scheme}//${u.hostname.toLowerCase()}${port}${u.pathname}`;
}

export interface TranscriptFields {
  /** The endpoint both sides agree on: canonicalEndpoint of the room URL. */
  endpoint: string;
  signer: string;
  peer: string;
  signerChallenge: string;
  peerChallenge: string;
}

export function sessionTranscript(f: TranscriptFields): Uint8Array | null {
  const signer = decodeIdentity(f.signer);
  const peer = decodeIdentity(f.peer);
  const own = fromBase64url(f.signerChallenge, LIMITS.challengeBytes);
  const theirs = fromBase64url(f.peerChallenge, LIMITS.challengeBytes);
  if (!signer.ok || !peer.ok || !own.ok || !theirs.ok) return null;
  return concat(lengthPrefixed(utf8(f.endpoint)), signer.value, peer.value, theirs.value, own.value);
}

export async function signSession(keys: KeyPair, f: Omit<TranscriptFields, 'signer'>): Promise<SignatureText> {
  const transcript = sessionTranscript({ ...f, signer: keys.identity });
  if (!transcript) throw new TypeError('invalid session fields');
  return keys.sign('session', transcript);
}

export async function verifySession(f: TranscriptFields, signature: string): Promise<boolean> {
  const transcript = sessionTranscript(f);
  return transcript !== null && verifySignature(f.signer, 'session', transcript, signature);
}
