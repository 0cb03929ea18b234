/**
 * The negative vectors of docs/protocol-vectors.json (§14.12), checked
 * against the real parsers, plus the vectors of rewrites (§14.10) and private
 * feeds (§14.11).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  checkPublicKey,
  concat,
  domainPrefix,
  forceBackend,
  fromBase64url,
  keyPairFromSeed,
  openEntry,
  openFeedKeys,
  openSealed,
  parseWire,
  utf8,
  verifyCofactorless,
  verifySession,
  wireErrorOf,
  type Identity,
  type PayloadOf,
} from '../../src/protocol/index.ts';
import stored from '../../docs/protocol-vectors.json' with { type: 'json' };
import { negativeText } from './negative.compute.ts';
import { hex } from './vectors.compute.ts';

const { negative } = stored;

describe('negative entries (§6.3)', () => {
  it.each(negative.entries.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const r = await openEntry(negativeText(v), (v as { expect?: { hash?: never; identity?: string } }).expect ?? {});
    expect(r.ok ? 'ok' : r.error.code).toBe(v.error);
  });

  it('covers every §1.3 code a single entry can fail with', () => {
    expect(new Set(negative.entries.map((v) => v.error))).toEqual(
      new Set([
        'bad_schema',
        'too_big',
        'bad_encoding',
        'bad_hash',
        'bad_signature',
        'bad_json',
        'bad_key',
        'wrong_identity',
        'unknown_type',
      ]),
    );
  });
});

describe('forgeries rule 4 alone accepts (§3.1)', () => {
  it.each(negative.forgeries.map((v) => [v.name, v] as const))('%s: rule 1 refuses it', async (_name, v) => {
    const [publicKey, message, signature] = [hex(v.publicKey), hex(v.message), hex(v.signature)];
    expect(v.rule).toBe(1);
    expect(checkPublicKey(publicKey).ok).toBe(false);
    // Positive control: the equation of rule 4 holds (noble refuses to decode y = p + 1 at all, so that one is left to WebCrypto: test/server/forgery.test.ts).
    if (!v.name.includes('p + 1')) expect(verifyCofactorless(publicKey, message, signature)).toBe(true);
  });

  it.each(['webcrypto', 'noble'] as const)('an entry under the neutral key with such a signature is refused (bad_key) on %s', async (b) => {
    forceBackend(b);
    try {
      const forged = negative.entries.find((e) => e.error === 'bad_key')!;
      const r = await openEntry(negativeText(forged));
      expect(r.ok ? 'ok' : r.error.code).toBe('bad_key');
      // Positive control: the signature satisfies rule 4 over the entry's signed bytes.
      const text = negativeText(forged) as string;
      const signed = concat(domainPrefix('entry'), utf8(text.slice(0, -87)));
      expect(
        verifyCofactorless(
          hex(negative.forgeries[0]!.publicKey),
          signed,
          fromBase64url(text.slice(-86)).ok ? (fromBase64url(text.slice(-86)) as { value: Uint8Array }).value : new Uint8Array(),
        ),
      ).toBe(true);
    } finally {
      forceBackend(undefined);
    }
  });
});

describe('negative sessions (§12.1)', () => {
  it.each(negative.sessions.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    expect(v.error).toBe('auth_failed');
    expect(await verifySession(v.fields as never, v.signature)).toBe(false);
  });

  it('the same signature verifies with the fields it was made for (positive control)', async () => {
    const { signature, ...fields } = stored.session;
    expect(await verifySession(fields, signature)).toBe(true);
    expect(negative.sessions[0]!.signature).toBe(signature);
  });
});

describe('negative frames (§13.1)', () => {
  it.each(negative.frames.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const parsed = parseWire(v.frame);
    if (v.error === 'bad_entry') {
      expect(parsed.ok).toBe(true);
      const entry = (parsed as { value: { entry: string } }).value.entry;
      const r = await openEntry(entry);
      expect(r.ok ? 'ok' : r.error.code).toBe((v as { entryError?: string }).entryError);
    } else {
      expect(parsed.ok ? 'ok' : wireErrorOf(parsed.error.code)).toBe(v.error);
    }
  });
});

describe('rewrite and private feed vectors', () => {
  it('the rebase maps the kept entry to its re-signed copy with the same comparable, and outranks the old head', async () => {
    const [resigned, last] = await Promise.all(stored.rebase.published.map((e) => openEntry(e.text, { hash: e.hash as never })));
    if (!resigned?.ok || !last?.ok) throw new Error('the published entries do not open');
    const kept = await openEntry(stored.rebase.kept.text);
    expect(kept.ok && resigned.value.body.comparable).toBe(kept.ok && kept.value.body.comparable);
    expect(last.value.body.payload).toEqual({
      type: 'rebase',
      from: stored.rebase.kept.hash,
      map: [[stored.rebase.kept.hash, resigned.value.hash]],
      removed: [stored.rebase.deleted.hash],
    });
  });

  it("B opens the feed_key entry, finds A's key, and reads the sealed note; the key id names it", async () => {
    const b = await keyPairFromSeed(hex(stored.keys.b.seed));
    const author = stored.keys.a.identity as Identity;
    const keyEntry = await openEntry(stored.privateFeed.feedKey.text, { hash: stored.privateFeed.feedKey.hash as never });
    const sealed = await openEntry(stored.privateFeed.sealed.text, { hash: stored.privateFeed.sealed.hash as never });
    if (!keyEntry.ok || !sealed.ok) throw new Error('the private feed entries do not open');
    const keys = openFeedKeys(keyEntry.value.body.payload as PayloadOf<'feed_key'>, b.seed, author);
    expect(keys.ok && keys.value.map((k) => Buffer.from(k).toString('hex'))).toEqual([stored.privateFeed.key]);
    const payload = sealed.value.body.payload as PayloadOf<'sealed'>;
    expect(payload.key).toBe(stored.privateFeed.keyId);
    const inner = openSealed(payload, hex(stored.privateFeed.key), author);
    expect(inner.ok && JSON.stringify(inner.value)).toBe(stored.privateFeed.plaintext);
    // The same box under another author's name does not open: the author is bound.
    expect(openSealed(payload, hex(stored.privateFeed.key), stored.keys.b.identity as Identity).ok).toBe(false);
  });
});

describe('the random-draw scheme of §14.6, as written', () => {
  /** Block i of `label`, computed from the text of §14.6 alone (not with vectors.compute.ts). */
  const block = (label: string, i: number) => sha256(utf8(`${label}/${i}`));
  const take = (label: string, first: number, n: number) => {
    const out = new Uint8Array(n);
    for (let at = 0, i = first; at < n; at += 32, i++) out.set(block(label, i).subarray(0, Math.min(32, n - at)), at);
    return out;
  };

  it('gives the envelope its ephemeral key (block 1) and nonce (block 7), the padding slots being one draw each', async () => {
    const label = 'effigy envelope vector';
    const raw = fromBase64url(stored.envelope.envelope);
    if (!raw.ok) throw new Error('envelope vector does not decode');
    const bytes = raw.value;
    expect(Buffer.from(take(label, 0, 32)).toString('hex')).toBe(stored.envelope.contentKey);
    expect(bytes.subarray(1, 33)).toEqual(x25519.getPublicKey(take(label, 1, 32)));
    const n = bytes[33]!;
    expect(n).toBe(4);
    expect(bytes.subarray(34 + 48 * n, 34 + 48 * n + 24)).toEqual(take(label, 7, 24));
    // The two padding slots (blocks 2–3 and 4–5, 48 bytes each) are among the four slots, wherever the shuffle put them.
    const slots = Array.from({ length: n }, (_, i) => Buffer.from(bytes.subarray(34 + 48 * i, 34 + 48 * (i + 1))).toString('hex'));
    expect(slots).toContain(Buffer.from(take(label, 2, 48)).toString('hex'));
    expect(slots).toContain(Buffer.from(take(label, 4, 48)).toString('hex'));
  });

  it('gives the private feed its key and the sealed note its nonce (block 0 of each label)', () => {
    expect(Buffer.from(take('effigy feed key vector', 0, 32)).toString('hex')).toBe(stored.privateFeed.key);
    const sealed = JSON.parse(stored.privateFeed.sealed.text.slice(0, -87)).payload as { box: string };
    const box = fromBase64url(sealed.box);
    expect(box.ok && box.value.subarray(0, 24)).toEqual(take('effigy sealed vector', 0, 24));
  });
});
