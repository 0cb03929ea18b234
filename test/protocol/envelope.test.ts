import { describe, expect, it } from 'vitest';
import {
  createEntry,
  findContentKey,
  fromBase64url,
  fromUtf8,
  generateKeyPair,
  open,
  openEntry,
  openWithContentKey,
  seal,
  toBase64url,
  utf8,
} from '../../src/protocol/index.ts';

const author = await generateKeyPair();
const readers = await Promise.all([1, 2, 3].map(() => generateKeyPair()));
const outsider = await generateKeyPair();
const ids = readers.map((r) => r.identity);

const slotsOf = (envelope: string) => {
  const b = fromBase64url(envelope);
  return b.ok ? (b.value[33] as number) : -1;
};

describe('envelopes', () => {
  it('every listed reader opens it; nobody else does', () => {
    const { envelope } = seal(utf8('for three'), { author: author.identity, kind: 'private_note', readers: ids });
    for (const r of readers) {
      const o = open(envelope, r.seed, author.identity, 'private_note');
      expect(o.ok && fromUtf8(o.value.plaintext)).toBe('for three');
    }
    const no = open(envelope, outsider.seed, author.identity, 'private_note');
    expect(!no.ok && no.error.code).toBe('decrypt_failed');
  });

  it('pads the slot count to a power of two, at least four, and names nobody', () => {
    expect(slotsOf(seal(utf8('x'), { author: author.identity, kind: 'private_note', readers: [ids[0]!] }).envelope)).toBe(4);
    expect(slotsOf(seal(utf8('x'), { author: author.identity, kind: 'private_note', readers: ids }).envelope)).toBe(4);
    const five = [...ids, author.identity, outsider.identity];
    const e = seal(utf8('x'), { author: author.identity, kind: 'private_note', readers: five }).envelope;
    expect(slotsOf(e)).toBe(8);
    for (const r of readers) expect(e.includes(r.identity.slice(1))).toBe(false);
  });

  it("is bound to its author: lifted into another identity's entry it does not open", () => {
    const { envelope } = seal(utf8('mine'), { author: author.identity, kind: 'private_note', readers: ids });
    const r = open(envelope, readers[0]!.seed, outsider.identity, 'private_note');
    expect(!r.ok && r.error.code).toBe('decrypt_failed');
  });

  it('is bound to its kind: a private note is not a mute', () => {
    const { envelope } = seal(utf8('x'), { author: author.identity, kind: 'private_note', readers: ids });
    expect(open(envelope, readers[0]!.seed, author.identity, 'mute').ok).toBe(false);
  });

  it('detects tampering with the header or body', () => {
    const { envelope } = seal(utf8('x'), { author: author.identity, kind: 'private_note', readers: ids });
    const bytes = fromBase64url(envelope);
    if (!bytes.ok) throw new Error('setup');
    for (const at of [40, bytes.value.length - 1]) {
      const copy = bytes.value.slice();
      copy[at] = (copy[at] as number) ^ 1;
      const r = open(toBase64url(copy), readers[0]!.seed, author.identity, 'private_note');
      expect(r.ok).toBe(false);
    }
  });

  it('feed-read vs content-read: anyone verifies the carrying entry, only key holders read', async () => {
    const groupKey = crypto.getRandomValues(new Uint8Array(32));
    const { envelope } = seal(utf8('group secret'), {
      author: author.identity,
      kind: 'private_note',
      readers: [ids[0]!],
      contentKey: groupKey,
    });
    const entry = await createEntry(author, { parent: null, comparable: 1, synod: null, payload: { type: 'private_note', envelope } });
    expect((await openEntry(entry.text)).ok).toBe(true); // an outsider replicates and verifies
    expect(open(envelope, outsider.seed, author.identity, 'private_note').ok).toBe(false);
    const direct = openWithContentKey(envelope, groupKey, author.identity, 'private_note');
    expect(direct.ok && fromUtf8(direct.value)).toBe('group secret');
    const found = findContentKey(envelope, readers[0]!.seed);
    expect(found.ok && [...found.value]).toEqual([...groupKey]);
  });

  it('rejects malformed envelopes with typed errors', () => {
    for (const bad of [
      '',
      'not base64!',
      toBase64url(new Uint8Array([2, ...new Uint8Array(40)])),
      toBase64url(new Uint8Array([1, ...new Uint8Array(32), 3])),
    ]) {
      const r = open(bad, readers[0]!.seed, author.identity, 'private_note');
      expect(r.ok).toBe(false);
    }
  });

  it('refuses bad seal requests', () => {
    expect(() => seal(utf8('x'), { author: author.identity, kind: 'private_note', readers: [] })).toThrow();
    expect(() => seal(utf8('x'), { author: author.identity, kind: 'private_note', readers: ['@nope'] })).toThrow();
  });
});
