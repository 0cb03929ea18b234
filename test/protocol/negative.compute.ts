/**
 * Negative vectors (docs/protocol.md §14.12): inputs every implementation
 * must refuse, each with the error it must give. Built from the fixed seeds
 * of vectors.compute.ts, so signatures are exact; written to
 * docs/protocol-vectors.json by `npm run vectors` for other test suites.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import {
  createEntry,
  hashOf,
  LIMITS,
  signSession,
  toBase64url,
  utf8,
  type ErrorCode,
  type Identity,
  type KeyPair,
  type WireErrorCode,
} from '../../src/protocol/index.ts';
import { toHex } from './vectors.compute.ts';

const utf16Hex = (text: string): string =>
  [...Array(text.length).keys()].map((i) => text.charCodeAt(i).toString(16).padStart(4, '0')).join('');

/** The text of a negative entry, from `text` or `utf16`. */
export const negativeText = (v: { text?: unknown; utf16?: string }): unknown =>
  v.utf16 === undefined ? v.text : String.fromCharCode(...(v.utf16.match(/.{4}/g) ?? []).map((u) => parseInt(u, 16)));

const sign = async (keys: KeyPair, body: string): Promise<string> => `${body}\n${await keys.sign('entry', utf8(body))}`;

const body = (identity: string, payload: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ identity, parent: null, comparable: 1700000000000, synod: null, payload, ...extra });

/**
 * `text` must fail openEntry (§6.3) with `error`, given the expectation. A
 * text holding a lone surrogate cannot be written in portable JSON; it comes
 * as `utf16`, its UTF-16 code units in hex, 4 digits each.
 */
export interface NegativeEntry {
  name: string;
  text?: unknown;
  utf16?: string;
  expect?: { hash?: string; identity?: string };
  error: ErrorCode;
}

async function entries(a: KeyPair, b: KeyPair): Promise<NegativeEntry[]> {
  const note = { type: 'public_note', text: 'hello, effigy' };
  const good = await createEntry(a, { parent: null, comparable: 1700000000000, synod: null, payload: note as never });
  const compact = body(a.identity, note);
  const spaced = compact.replace('"parent":null', '"parent": null');
  const sig = good.text.slice(-86);
  // The same 64 bytes with a non-zero unused low bit in the last character (§2 rule 3): 64 bytes leave 4 bits unused.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const noncanonicalSig = sig.slice(0, 85) + alphabet[alphabet.indexOf(sig[85]!) + 1]!;
  return [
    { name: 'not a string', text: 42, error: 'bad_schema' },
    { name: 'over 15360 UTF-16 units', text: 'a'.repeat(15361), error: 'too_big' },
    { name: 'a lone surrogate in the text', utf16: utf16Hex(`${compact.slice(0, -2)}\ud800"}}\n${sig}`), error: 'bad_encoding' },
    { name: 'over 15360 UTF-8 bytes, under 15360 UTF-16 units', text: 'é'.repeat(8000), error: 'too_big' },
    { name: 'hash differs from the name asked for', text: good.text, expect: { hash: hashOf(utf8('abc')) }, error: 'bad_hash' },
    { name: 'no newline before the signature', text: good.text.replace('\n', ' '), error: 'bad_encoding' },
    { name: 'signature not canonical base64url', text: good.text.slice(0, -86) + noncanonicalSig, error: 'bad_signature' },
    { name: 'body not JSON (signed)', text: await sign(a, '{"identity":'), error: 'bad_json' },
    { name: 'body a JSON array (signed)', text: await sign(a, `["${a.identity}"]`), error: 'bad_schema' },
    { name: 'body not the one spelling, correctly signed', text: await sign(a, spaced), error: 'bad_encoding' },
    {
      name: 'body not the one spelling and the signature wrong: the spelling is checked first',
      text: `${spaced}\n${sig}`,
      error: 'bad_encoding',
    },
    {
      name: 'an escaped lone surrogate in a string (signed)',
      text: await sign(a, body(a.identity, { type: 'public_note', text: '\ud800' })),
      error: 'bad_encoding',
    },
    { name: 'no identity (signed)', text: await sign(a, JSON.stringify({ parent: null })), error: 'bad_schema' },
    {
      // R = sB, S = s verifies any message under the neutral key by rule 4 alone (§3.1).
      name: 'identity is the neutral key, with a signature rule 4 alone accepts',
      text: `${body('@AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', note)}\n${toBase64url(neutralForgery().signature)}`,
      error: 'bad_key',
    },
    { name: 'signature by another key', text: `${compact}\n${(await sign(b, compact)).slice(-86)}`, error: 'bad_signature' },
    { name: 'one body byte changed', text: good.text.replace('hello', 'hellO'), error: 'bad_signature' },
    { name: 'announced for another identity', text: good.text, expect: { identity: b.identity }, error: 'wrong_identity' },
    {
      name: 'unknown payload type (signed)',
      text: await sign(a, body(a.identity, { type: 'poll', text: 'x' })),
      error: 'unknown_type',
    },
    { name: 'a member not in §6.1 (signed)', text: await sign(a, body(a.identity, note, { extra: 1 })), error: 'bad_schema' },
    { name: 'comparable 0 (signed)', text: await sign(a, body(a.identity, note, { comparable: 0 })), error: 'bad_schema' },
    {
      name: 'a rebase naming more than 128 entries (signed)',
      text: await sign(
        a,
        body(a.identity, { type: 'rebase', from: good.hash, map: [], removed: Array.from({ length: 129 }, () => good.hash) }),
      ),
      error: 'bad_schema',
    },
    {
      name: 'a sealed payload with a key id of the wrong length (signed)',
      text: await sign(a, body(a.identity, { type: 'sealed', key: 'AAAA', box: 'AAAA' })),
      error: 'bad_schema',
    },
  ];
}

/** A signature §3.1 refuses that rule 4 alone accepts (and so WebCrypto in workerd, Chromium and Node 20). Hex throughout. */
export interface Forgery {
  name: string;
  publicKey: string;
  message: string;
  signature: string;
  /** The rule of §3.1 that refuses it. */
  rule: number;
}

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;
const le = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

/** For the neutral key A = 0: [S]B − [k]A = [S]B, so R = sB, S = s verifies any message. */
function neutralForgery(): { publicKey: Uint8Array; signature: Uint8Array } {
  const s = 12345n;
  return { publicKey: le(1n), signature: new Uint8Array([...ed25519.Point.BASE.multiply(s).toBytes(), ...le(s)]) };
}

function forgeries(): Forgery[] {
  const message = utf8('effigy forgery vector');
  const neutral = toHex(neutralForgery().publicKey);
  const sig = toHex(neutralForgery().signature);
  // For the order-2 key A = (0, −1): [k]A = 0 when k is even, which happens for half of all s.
  const order2 = le(P - 1n);
  let order2Sig = '';
  for (let t = 1n; !order2Sig; t++) {
    const r = ed25519.Point.BASE.multiply(t).toBytes();
    // k = SHA-512(R ‖ A ‖ M) read little-endian, mod L.
    const k = BigInt(`0x${toHex(sha512(new Uint8Array([...r, ...order2, ...message])).reverse())}`) % L;
    if (k % 2n === 0n) order2Sig = toHex(new Uint8Array([...r, ...le(t)]));
  }
  return [
    { name: 'neutral public key (y = 1), R = sB, S = s', publicKey: neutral, message: toHex(message), signature: sig, rule: 1 },
    {
      name: 'neutral point spelled y = p + 1 (not canonical), R = sB, S = s',
      publicKey: toHex(le(P + 1n)),
      message: toHex(message),
      signature: sig,
      rule: 1,
    },
    {
      name: 'order-2 public key (0, −1), R = tB, S = t with k even',
      publicKey: toHex(order2),
      message: toHex(message),
      signature: order2Sig,
      rule: 1,
    },
  ];
}

/** A session_auth signature that must not verify (§12.1): `fields` are what the verifier uses. */
export interface NegativeSession {
  name: string;
  fields: { endpoint: string; signer: Identity; peer: Identity; signerChallenge: string; peerChallenge: string };
  signature: string;
  error: WireErrorCode;
}

async function sessions(a: KeyPair, b: KeyPair): Promise<NegativeSession[]> {
  const base = {
    endpoint: 'https://effigy.example/room/lobby',
    signer: a.identity,
    peer: b.identity,
    signerChallenge: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
    peerChallenge: 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8',
  };
  const signature = await signSession(a, base);
  return [
    {
      name: 'signed for another endpoint',
      fields: { ...base, endpoint: 'https://effigy.example/room/other' },
      signature,
      error: 'auth_failed',
    },
    {
      name: 'reflected: the same signature presented as the peer’s',
      fields: { ...base, signer: b.identity, peer: a.identity },
      signature,
      error: 'auth_failed',
    },
    {
      name: 'challenges swapped',
      fields: { ...base, signerChallenge: base.peerChallenge, peerChallenge: base.signerChallenge },
      signature,
      error: 'auth_failed',
    },
    {
      name: 'an entry signature over the transcript bytes (wrong signing domain)',
      fields: base,
      signature: await a.sign('entry', utf8('not a transcript')),
      error: 'auth_failed',
    },
  ];
}

/** A frame a receiver must refuse with `error`; for `answer: "bad_entry"` the frame parses, and the entry inside fails with `entryError`. */
export interface NegativeFrame {
  name: string;
  frame: string;
  error: WireErrorCode;
  entryError?: ErrorCode;
}

function frames(a: KeyPair): NegativeFrame[] {
  const sr = (challenge: string) => JSON.stringify({ type: 'session_request', identity: a.identity, head: null, challenge });
  return [
    { name: 'not JSON', frame: '{"type":', error: 'bad_json' },
    { name: 'a JSON array', frame: '["ping"]', error: 'bad_schema' },
    { name: 'unknown type', frame: '{"type":"gossip"}', error: 'unknown_type' },
    { name: 'a missing member', frame: '{"type":"get_heads","id":"1"}', error: 'bad_schema' },
    { name: 'an unknown member', frame: '{"type":"ping","id":"1","extra":true}', error: 'bad_schema' },
    { name: 'an id over 64 characters', frame: JSON.stringify({ type: 'ping', id: 'x'.repeat(65) }), error: 'bad_schema' },
    { name: 'an error code not in §13.4', frame: '{"type":"error","code":"teapot","message":"no"}', error: 'bad_schema' },
    {
      name: 'session_request with a challenge of 31 bytes',
      frame: sr(toBase64url(new Uint8Array(31))),
      error: 'bad_schema',
    },
    {
      name: 'session_request with a challenge not in canonical base64url (unused bits set)',
      frame: sr('AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9'),
      error: 'bad_schema',
    },
    {
      name: 'session_request with a small-order identity',
      frame: JSON.stringify({
        type: 'session_request',
        identity: '@AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        head: null,
        challenge: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
      }),
      error: 'bad_schema',
    },
    {
      name: 'get_feed with limit 16385 (over feedLimit)',
      frame: JSON.stringify({
        type: 'get_feed',
        identity: a.identity,
        from: hashOf(utf8('abc')),
        known: null,
        limit: LIMITS.feedLimit + 1,
      }),
      error: 'bad_schema',
    },
    {
      name: 'announce of an entry over 15360 UTF-16 units: parses, the entry fails §6.3',
      frame: JSON.stringify({ type: 'announce', id: '3', entry: 'a'.repeat(15361) }),
      error: 'bad_entry',
      entryError: 'too_big',
    },
    {
      name: 'a frame over 65536 bytes',
      frame: JSON.stringify({ type: 'ping', id: '1', pad: 'x'.repeat(65536) }),
      error: 'too_big',
    },
  ];
}

export async function computeNegative(a: KeyPair, b: KeyPair) {
  return { entries: await entries(a, b), forgeries: forgeries(), sessions: await sessions(a, b), frames: frames(a) };
}
