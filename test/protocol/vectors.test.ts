/**
 * The contract: docs/protocol-vectors.json holds exact bytes computed from
 * fixed seeds; this suite recomputes them, checks the doc quotes them, and
 * checks every wire example and peer signal in docs/protocol.md against the
 * real parsers, and its code tables against the code's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CLOSE,
  encodeWire,
  forceBackend,
  fromUtf8,
  keyPairFromSeed,
  mnemonicToSeed,
  derivePairing,
  open,
  openEntry,
  openPair,
  parseMessage,
  verifySender,
  parseSignal,
  parseWire,
  verifyMembership,
  verifySession,
  WIRE_ERROR_CODES,
  WIRE_TYPES,
  type EnvelopeKind,
  type Identity,
} from '../../src/protocol/index.ts';
import stored from '../../docs/protocol-vectors.json' with { type: 'json' };
import { computeVectors, hex, toHex } from './vectors.compute.ts';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

describe('test vectors', () => {
  it('the code reproduces docs/protocol-vectors.json byte for byte', async () => {
    expect(await computeVectors()).toEqual(stored);
  });

  it.each(['webcrypto', 'noble'] as const)('every vector entry verifies on %s', async (b) => {
    forceBackend(b);
    try {
      for (const e of stored.entries) {
        const r = await openEntry(e.text, { hash: e.hash as never });
        expect(r.ok).toBe(true);
      }
      expect(
        await verifyMembership(stored.membership.synod as Identity, stored.membership.device as Identity, stored.membership.proof),
      ).toBe(true);
      const { signature, ...fields } = stored.session;
      expect(await verifySession(fields, signature)).toBe(true);
    } finally {
      forceBackend(undefined);
    }
  });

  it('the mnemonic restores key A, and the envelope opens for reader B with the stated content key', async () => {
    const seed = await mnemonicToSeed(stored.keys.a.mnemonic);
    expect(seed.ok && toHex(seed.value)).toBe(stored.keys.a.seed);
    const b = await keyPairFromSeed(hex(stored.keys.b.seed));
    const o = open(stored.envelope.envelope, b.seed, stored.envelope.author, stored.envelope.kind as EnvelopeKind);
    expect(o.ok && fromUtf8(o.value.plaintext)).toBe(stored.envelope.plaintext);
    expect(o.ok && toHex(o.value.contentKey)).toBe(stored.envelope.contentKey);
  });
});

describe('pairing and message vectors', () => {
  it('the code derives the stated rendezvous identity, room and box key, and the offer opens', async () => {
    const d = await derivePairing(stored.pairing.code);
    expect(d.keys.identity).toBe(stored.pairing.identity);
    expect(d.room).toBe(stored.pairing.room);
    expect(toHex(d.box)).toBe(stored.pairing.box);
    expect(openPair(d.box, stored.pairing.offer as never)).toEqual({
      ok: true,
      value: { op: 'offer', synod: stored.keys.s.identity, name: 'Ada' },
    });
  });

  it("the message parses and its card proves the author's synod", async () => {
    const m = parseMessage(stored.message.plaintext);
    expect(m?.to).toEqual([stored.keys.b.identity]);
    const sender = await verifySender(m!.from!, stored.message.author as Identity);
    expect(sender).toEqual({ ok: true, value: { synod: stored.keys.s.identity } });
  });
});

describe('docs/protocol.md', () => {
  it('quotes every vector verbatim', () => {
    const quoted = [
      stored.keys.a.identity,
      stored.keys.a.mnemonic,
      stored.keys.b.identity,
      stored.keys.s.identity,
      stored.hashes.empty,
      stored.hashes.abc,
      ...stored.entries.flatMap((e) => [e.text, e.hash, e.signature]),
      stored.membership.proof,
      stored.session.signature,
      stored.envelope.envelope,
      stored.pairing.identity,
      stored.pairing.room,
      stored.pairing.box,
      stored.pairing.offer.box,
      stored.message.plaintext,
      stored.interests.digest,
      stored.interests.empty,
      stored.blobChunk.hex,
    ];
    for (const q of quoted) expect(doc, `protocol.md lacks ${q.slice(0, 60)}`).toContain(q);
  });

  it('gives one valid example of every wire message', () => {
    const examples = [...doc.matchAll(/```json wire\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const seen = new Set<string>();
    for (const ex of examples) {
      const r = parseWire(JSON.stringify(JSON.parse(ex)));
      expect(r.ok, `invalid example: ${ex}\n${r.ok ? '' : r.error.message}`).toBe(true);
      if (r.ok) seen.add(r.value.type);
    }
    expect([...seen].sort()).toEqual([...WIRE_TYPES].sort());
  });

  it('lists exactly the error codes and close codes of src/protocol/codes.ts (§13.4)', () => {
    const section = doc.slice(doc.indexOf('### 13.4'), doc.indexOf('### 13.5'));
    const codes = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(codes).toEqual([...WIRE_ERROR_CODES]);
    const closes = [...section.matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1]));
    expect(closes.sort()).toEqual(Object.values(CLOSE).sort());
  });

  it('gives one valid example of every peer signal, each fitting a message_to (§13.6)', () => {
    const examples = [...doc.matchAll(/```json signal\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const seen = new Set<string>();
    for (const ex of examples) {
      const r = parseSignal(JSON.parse(ex));
      expect(r.ok, `invalid signal: ${ex}\n${r.ok ? '' : r.error.message}`).toBe(true);
      if (!r.ok) continue;
      const s = r.value;
      seen.add(s.ch === 'call' ? `call ${s.op}` : `${s.ch} ${Object.keys(s).find((k) => k !== 'ch')}`);
      const frame = encodeWire({ type: 'message_to', to: stored.keys.a.identity as Identity, payload: s });
      expect(parseWire(frame).ok).toBe(true);
    }
    expect([...seen].sort()).toEqual(
      [
        'relay m',
        'relay ms',
        'relay z',
        'relay close',
        'rtc sdp',
        'rtc candidate',
        'rtc fail',
        'pair nonce',
        ...['offer', 'answer', 'ice', 'decline', 'hangup', 'refused', 'busy'].map((op) => `call ${op}`),
      ].sort(),
    );
  });
});
