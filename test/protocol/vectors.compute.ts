/**
 * Computes the protocol's test vectors from fixed seeds. `npm run vectors`
 * writes them to docs/protocol-vectors.json; the suite recomputes them and
 * demands byte equality, and checks that docs/protocol.md quotes them.
 */
import {
  createEntry,
  derivePairing,
  sealPair,
  encodeBlobChunk,
  hashOf,
  interestDigest,
  keyPairFromSeed,
  seal,
  seedToMnemonic,
  signMembership,
  signSession,
  toBase64url,
  utf8,
  type Identity,
} from '../../src/protocol/index.ts';
import { sha256 } from '@noble/hashes/sha2.js';

export const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
export const toHex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** RFC 8032 §7.1 test 1's secret, so the identity can be checked against the RFC. */
export const SEED_A = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
/** RFC 8032 §7.1 test 2's secret. */
export const SEED_B = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';
/** A synod key for the membership vector. */
export const SEED_S = '0101010101010101010101010101010101010101010101010101010101010101';

/** Deterministic randomness: SHA-256(label ‖ counter) blocks. For vectors only. */
export function seededRandom(label: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += 32) {
      const block = sha256(utf8(`${label}/${counter++}`));
      out.set(block.subarray(0, Math.min(32, n - at)), at);
    }
    return out;
  };
}

export async function computeVectors() {
  const a = await keyPairFromSeed(hex(SEED_A));
  const b = await keyPairFromSeed(hex(SEED_B));
  const s = await keyPairFromSeed(hex(SEED_S));

  const root = await createEntry(a, {
    parent: null,
    comparable: 1700000000000,
    synod: null,
    payload: { type: 'public_note', text: 'hello, effigy' },
  });
  const second = await createEntry(a, {
    parent: root.hash,
    comparable: 1700000000001,
    synod: [s.identity, hashOf(utf8('synod head placeholder'))] as [Identity, typeof root.hash],
    payload: { type: 'follow', identity: b.identity },
  });
  const unicode = await createEntry(b, {
    parent: null,
    comparable: 1,
    synod: null,
    payload: { type: 'public_note', text: 'naïve café — 日本 🦊' },
  });

  const proof = await signMembership(a, s.identity);
  const synodRoot = await createEntry(s, {
    parent: null,
    comparable: 1700000000000,
    synod: null,
    payload: { type: 'synod', op: 'add_device', device: a.identity, proof },
  });

  const session = {
    endpoint: 'https://effigy.example/room/lobby',
    peer: b.identity,
    signerChallenge: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
    peerChallenge: 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8',
  };
  const sessionSignature = await signSession(a, session);

  const sealed = seal(utf8('a note for two readers'), {
    author: a.identity,
    kind: 'private_note',
    readers: [b.identity, a.identity],
    random: seededRandom('effigy envelope vector'),
  });

  const pairing = await derivePairing('123456789012');
  const offer = sealPair(pairing.box, { op: 'offer', synod: s.identity, name: 'Ada' }, seededRandom('effigy pairing vector')(24));
  const message = {
    type: 'message' as const,
    id: toBase64url(seededRandom('effigy message vector')(16)),
    to: [b.identity],
    text: 'See you at noon.',
    from: { device: synodRoot.text },
  };

  return {
    keys: {
      a: { seed: SEED_A, identity: a.identity, mnemonic: await seedToMnemonic(a.seed) },
      b: { seed: SEED_B, identity: b.identity },
      s: { seed: SEED_S, identity: s.identity },
    },
    hashes: {
      empty: hashOf(new Uint8Array(0)),
      abc: hashOf(utf8('abc')),
    },
    entries: [root, second, unicode, synodRoot].map((e) => ({
      text: e.text,
      hash: e.hash,
      signature: e.signature,
      size: e.size,
    })),
    membership: { synod: s.identity, device: a.identity, proof },
    session: { ...session, signer: a.identity, signature: sessionSignature },
    interests: {
      identities: [s.identity, a.identity, b.identity],
      digest: interestDigest([s.identity, a.identity, b.identity]),
      empty: interestDigest([]),
    },
    blobChunk: {
      re: '6',
      offset: 0,
      total: 3,
      data: 'abc',
      hex: toHex(encodeBlobChunk({ re: '6', offset: 0, total: 3, data: utf8('abc') })),
    },
    envelope: {
      author: a.identity,
      kind: 'private_note',
      readers: [b.identity, a.identity],
      plaintext: 'a note for two readers',
      contentKey: toHex(sealed.contentKey),
      envelope: sealed.envelope,
    },
    pairing: {
      code: '123456789012',
      identity: pairing.keys.identity,
      room: pairing.room,
      box: toHex(pairing.box),
      offer,
    },
    message: { author: a.identity, plaintext: JSON.stringify(message) },
  };
}

export type Vectors = Awaited<ReturnType<typeof computeVectors>>;
