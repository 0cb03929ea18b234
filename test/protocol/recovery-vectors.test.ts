/**
 * The recovery vectors (docs/protocol.md §14.9): recomputed byte for byte,
 * the shares give S's seed back two at a time, each drop opens for its
 * reader alone as the stated message, and the spec quotes them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { combineShares, keyPairFromSeed, openEntry, readRecovery, recoveryMessageSchema, type Identity } from '../../src/protocol/index.ts';
import stored from '../../docs/protocol-vectors-recovery.json' with { type: 'json' };
import { computeRecoveryVectors } from './recovery-vectors.compute.ts';
import { hex, SEED_A, SEED_B, SEED_S } from './vectors.compute.ts';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

describe('recovery vectors', () => {
  it('the code reproduces docs/protocol-vectors-recovery.json byte for byte', async () => {
    expect(await computeRecoveryVectors()).toEqual(stored);
  });

  it("any two of the three shares give S's seed back; one does not", async () => {
    const account = stored.shares.account as Identity;
    const [x, y, z] = stored.shares.shares as [string, string, string];
    for (const pair of [
      [x, y],
      [y, z],
      [z, x],
    ]) {
      const r = await combineShares(pair, account);
      expect(r.ok && Buffer.from(r.value).toString('hex')).toBe(stored.shares.seed);
    }
    expect((await combineShares([x], account)).ok).toBe(false);
  });

  it('each drop is a valid entry that opens, for its reader only, as the stated recovery message', async () => {
    const seeds = { [SEED_A]: hex(SEED_A), [SEED_B]: hex(SEED_B), [SEED_S]: hex(SEED_S) };
    const keys = await Promise.all(Object.values(seeds).map((s) => keyPairFromSeed(s)));
    for (const v of [stored.share, stored.request, stored.release]) {
      const entry = await openEntry(v.entry, { hash: v.hash as never, identity: v.author as never });
      expect(entry.ok).toBe(true);
      if (!entry.ok) continue;
      const reader = keys.find((k) => k.identity === v.reader)!;
      expect(readRecovery(entry.value, [reader.seed])).toEqual(JSON.parse(v.message));
      expect(recoveryMessageSchema.safeParse(JSON.parse(v.message)).success).toBe(true);
      for (const other of keys.filter((k) => k !== reader)) expect(readRecovery(entry.value, [other.seed])).toBeNull();
    }
  });

  it('docs/protocol.md quotes every recovery vector verbatim', () => {
    const quoted = [
      ...stored.shares.shares,
      stored.set,
      ...[stored.share, stored.request, stored.release].flatMap((v) => [v.message, v.entry, v.hash]),
    ];
    for (const q of quoted) expect(doc, `protocol.md lacks ${q.slice(0, 60)}`).toContain(q);
  });
});
