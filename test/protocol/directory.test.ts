import { describe, expect, it } from 'vitest';
import { buildDirectory, hashOf, parseDirectory, utf8, type DirectoryItem } from '../../src/protocol/index.ts';

const file = (name: string, content: string): DirectoryItem => ({
  name,
  kind: 'file',
  blob: { hash: hashOf(utf8(content)), size: utf8(content).length },
});

describe('directories (collections as Merkle trees)', () => {
  it('one set of children has one directory blob, whatever the input order', () => {
    const a = buildDirectory([file('b.jpg', 'B'), file('a.jpg', 'A')]);
    const b = buildDirectory([file('a.jpg', 'A'), file('b.jpg', 'B')]);
    expect(a.ref).toEqual(b.ref);
  });

  it('changing a leaf deep in the tree changes the root', () => {
    const inner = buildDirectory([file('x.png', 'X')]);
    const inner2 = buildDirectory([file('x.png', 'X2')]);
    const root = buildDirectory([{ name: 'album', kind: 'directory', blob: inner.ref }]);
    const root2 = buildDirectory([{ name: 'album', kind: 'directory', blob: inner2.ref }]);
    expect(root.ref.hash).not.toBe(root2.ref.hash);
  });

  it('parses what it builds and checks the hash', () => {
    const d = buildDirectory([file('a', '1')]);
    expect(parseDirectory(d.bytes, d.ref.hash).ok).toBe(true);
    const r = parseDirectory(d.bytes, hashOf(utf8('other')));
    expect(!r.ok && r.error.code).toBe('bad_hash');
  });

  it('rejects duplicates, unsorted items and path tricks', () => {
    expect(() => buildDirectory([file('a', '1'), file('a', '2')])).toThrow(/duplicate/);
    expect(() => buildDirectory([file('../etc', '1')])).toThrow();
    const unsorted = utf8(JSON.stringify({ type: 'directory', items: [file('b', '1'), file('a', '2')] }));
    const r = parseDirectory(unsorted);
    expect(!r.ok && r.error.code).toBe('bad_schema');
    expect(parseDirectory(utf8('{')).ok).toBe(false);
  });
});
