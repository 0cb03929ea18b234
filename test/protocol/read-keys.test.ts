/** `read_keys` records (docs/protocol.md §9.8): the documented example parses; sealed records open for their reader alone, under their kind alone. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  open,
  openReadKeys,
  READ_KEYS_PER_RECORD,
  readKeysSchema,
  sealReadKeys,
  type Hash,
} from '../../src/protocol/index.ts';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const ENTRY = '&3l3_jCysbItDuCyY91mkyc2WtHGOOGEP4hIWWHFNXP8' as Hash;

describe('read_keys records', () => {
  it('the example in §9.8 is a valid record', () => {
    const example = /```json\n\s*(\{"type":"read_keys".*\})\n\s*```/.exec(doc)?.[1];
    expect(example, 'docs/protocol.md §9.8 has no read_keys example').toBeDefined();
    const parsed = readKeysSchema.safeParse(JSON.parse(example ?? '{}'));
    expect(parsed.success).toBe(true);
  });

  it('opens for the device it is sealed to, with every key, and for nobody else', async () => {
    const [giver, reader, other] = await Promise.all([generateKeyPair(), generateKeyPair(), generateKeyPair()]);
    const key = new Uint8Array(32).fill(7);
    const envelope = sealReadKeys([{ entry: ENTRY, key }], { author: giver.identity, readers: [reader.identity] });
    const opened = openReadKeys(envelope, reader.seed, giver.identity);
    expect(opened.ok && opened.value).toEqual([{ entry: ENTRY, key }]);
    expect(openReadKeys(envelope, other.seed, giver.identity).ok).toBe(false);
    // The kind is bound: the same envelope does not open as a private note (positive control: as read_keys it did).
    expect(open(envelope, reader.seed, giver.identity, 'private_note').ok).toBe(false);
    expect(open(envelope, reader.seed, giver.identity, 'read_keys').ok).toBe(true);
  });

  it('refuses an empty record, too many keys, and a key of the wrong length', async () => {
    const giver = await generateKeyPair();
    const opts = { author: giver.identity, readers: [giver.identity] };
    expect(() => sealReadKeys([], opts)).toThrow(/read_keys/);
    const many = Array.from({ length: READ_KEYS_PER_RECORD + 1 }, () => ({ entry: ENTRY, key: new Uint8Array(32) }));
    expect(() => sealReadKeys(many, opts)).toThrow(/read_keys/);
    expect(readKeysSchema.safeParse({ type: 'read_keys', keys: [{ entry: ENTRY, key: 'AAAA' }] }).success).toBe(false);
    expect(() => sealReadKeys(many.slice(0, READ_KEYS_PER_RECORD), opts)).not.toThrow();
  });
});
