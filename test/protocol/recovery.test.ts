/**
 * Recovery through friends (§9.6): the account's seed split among friends,
 * as properties (fast-check): any k shares give it back, k − 1 say nothing
 * about it; and the sealed messages: only their reader opens them, only as
 * `recovery`, and strict schemas.
 */
import fc from 'fast-check';
import { combine } from 'shamir-secret-sharing';
import { describe, expect, it } from 'vitest';
import {
  combineShares,
  fromBase64url,
  generateKeyPair,
  identityOfSeed,
  keyPairFromSeed,
  newRecoveryCode,
  newRecoverySet,
  open,
  openRecovery,
  readRecovery,
  recoverSeed,
  recoveryDrop,
  recoveryMessageSchema,
  sealRecovery,
  splitSeed,
  type RecoveryMessage,
} from '../../src/protocol/index.ts';

/** A split: a random seed, n friends, threshold k. */
const splits = fc
  .record({ seed: fc.uint8Array({ minLength: 32, maxLength: 32 }), n: fc.integer({ min: 2, max: 7 }) })
  .chain(({ seed, n }) => fc.record({ seed: fc.constant(seed), n: fc.constant(n), k: fc.integer({ min: 2, max: n }) }));

/** A subset of `size` indices of 0 … n − 1, in any order. */
const subset = (n: number, size: number) =>
  fc.shuffledSubarray(
    Array.from({ length: n }, (_, i) => i),
    { minLength: size, maxLength: size },
  );

describe('splitting the account seed', () => {
  it('any k of the n shares give the seed back, whichever they are and in any order', async () => {
    await fc.assert(
      fc.asyncProperty(
        splits.chain((s) => fc.record({ s: fc.constant(s), pick: subset(s.n, s.k) })),
        async ({ s, pick }) => {
          const shares = await splitSeed(s.seed, s.n, s.k);
          const got = await combineShares(
            pick.map((i) => shares[i] as string),
            identityOfSeed(s.seed),
          );
          expect(got.ok && [...got.value]).toEqual([...s.seed]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('k − 1 shares say nothing: with any other point they fit every value of every byte, each exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        splits.chain((s) => fc.record({ s: fc.constant(s), pick: subset(s.n, s.k - 1), byte: fc.integer({ min: 0, max: 31 }) })),
        async ({ s, pick, byte }) => {
          const shares = (await splitSeed(s.seed, s.n, s.k)).map((t) => (fromBase64url(t) as { value: Uint8Array }).value);
          const known = pick.map((i) => shares[i] as Uint8Array);
          // An x none of the known shares uses; then every y there, as a k-th share.
          const used = new Set(known.map((b) => b[32]));
          const x = [...Array(255).keys()].map((i) => i + 1).find((v) => !used.has(v)) as number;
          const seen = new Map<number, number>();
          for (let y = 0; y < 256; y++) {
            const extra = new Uint8Array(33);
            extra[byte] = y;
            extra[32] = x;
            const secret = (await combine([...known, extra]))[byte] as number;
            seen.set(secret, (seen.get(secret) ?? 0) + 1);
          }
          // Every one of the 256 values of this byte stays possible, and equally so: k − 1 shares pin nothing down.
          expect(seen.size).toBe(256);
          expect([...seen.values()].every((c) => c === 1)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('k − 1 shares do not give the account back; k do (the control); two splits do not mix', async () => {
    await fc.assert(
      fc.asyncProperty(splits, async (s) => {
        const account = identityOfSeed(s.seed);
        const shares = await splitSeed(s.seed, s.n, s.k);
        expect((await combineShares(shares.slice(0, s.k - 1), account)).ok).toBe(false);
        expect((await combineShares(shares.slice(0, s.k), account)).ok).toBe(true);
        const other = await splitSeed(s.seed, s.n, s.k);
        const mixed = [...shares.slice(0, s.k - 1), other.find((o) => !shares.slice(0, s.k - 1).some((h) => h.at(-1) === o.at(-1)))!];
        const r = await combineShares(mixed, account);
        expect(!r.ok && r.error.code).toBe('wrong_identity');
      }),
      { numRuns: 40 },
    );
  });

  it('finds the good group when one friend sends a wrong share', async () => {
    const keys = await generateKeyPair();
    const shares = await splitSeed(keys.seed, 5, 3);
    const bad = shares[1]!.slice(0, 5) + (shares[1]![5] === 'A' ? 'B' : 'A') + shares[1]!.slice(6);
    const got = await recoverSeed([shares[0]!, bad, shares[2]!, shares[3]!], 3, keys.identity);
    expect(got.ok && identityOfSeed(got.value)).toBe(keys.identity);
    const short = await recoverSeed([shares[0]!, shares[2]!], 3, keys.identity);
    expect(!short.ok && short.error.message).toBe('2 of 3 shares so far');
  });

  it('refuses splits it cannot make', async () => {
    const seed = new Uint8Array(32);
    await expect(splitSeed(seed, 1, 1)).rejects.toThrow(/between 2 and 16/);
    await expect(splitSeed(seed, 17, 3)).rejects.toThrow(/between 2 and 16/);
    await expect(splitSeed(seed, 3, 4)).rejects.toThrow(/threshold/);
    await expect(splitSeed(new Uint8Array(16), 3, 2)).rejects.toThrow(/32 bytes/);
  });
});

describe('recovery messages', () => {
  it('a share is sealed to one friend: it opens for that friend as recovery, and as nothing else, for nobody else', async () => {
    const [account, friend, stranger] = await Promise.all([generateKeyPair(), generateKeyPair(), generateKeyPair()]);
    const [share] = await splitSeed(account.seed, 3, 2);
    const message: RecoveryMessage = {
      type: 'recovery_share',
      account: account.identity,
      set: newRecoverySet(),
      threshold: 2,
      friends: 3,
      share: share!,
      name: 'Ada',
    };
    const drop = await recoveryDrop(account, [friend.identity], message);
    expect(drop.body.parent).toBeNull();
    expect(readRecovery(drop, [friend.seed])).toEqual(message);
    expect(readRecovery(drop, [stranger.seed, account.seed])).toBeNull();
    const envelope = (drop.body.payload as { envelope: string }).envelope;
    for (const kind of ['private_note', 'drop', 'mute'] as const)
      expect(open(envelope, friend.seed, account.identity, kind).ok).toBe(false);
    // Lifted into someone else's entry, it does not open.
    expect(openRecovery(envelope, friend.seed, stranger.identity).ok).toBe(false);
  });

  it('schemas are strict: thresholds within the friends, six-digit codes, no extra members', async () => {
    const a = (await generateKeyPair()).identity;
    const base = { type: 'recovery_share', account: a, set: newRecoverySet(), threshold: 3, friends: 5, share: 'A'.repeat(44) };
    expect(recoveryMessageSchema.safeParse(base).success).toBe(true);
    expect(recoveryMessageSchema.safeParse({ ...base, threshold: 6 }).success).toBe(false);
    expect(recoveryMessageSchema.safeParse({ ...base, threshold: 1 }).success).toBe(false);
    expect(recoveryMessageSchema.safeParse({ ...base, extra: 1 }).success).toBe(false);
    const request = { type: 'recovery_request', name: 'Ada', code: '123456', replyTo: ['https://effigy.example'] };
    expect(recoveryMessageSchema.safeParse(request).success).toBe(true);
    expect(recoveryMessageSchema.safeParse({ ...request, code: '12345' }).success).toBe(false);
    expect(recoveryMessageSchema.safeParse({ ...request, replyTo: [] }).success).toBe(false);
    expect(recoveryMessageSchema.safeParse({ ...request, replyTo: ['http://evil.example'] }).success).toBe(false);
    const other = await keyPairFromSeed(new Uint8Array(32).fill(7));
    expect(() => sealRecovery({ ...request, code: 'abcdef' } as RecoveryMessage, { author: other.identity, readers: [a] })).toThrow(
      /invalid recovery message/,
    );
  });

  it('codes are six evenly drawn digits; set ids 22 characters', () => {
    expect(newRecoveryCode()).toMatch(/^\d{6}$/);
    let calls = 0;
    const random = (n: number) => {
      calls++;
      return Uint8Array.from({ length: n }, (_, i) => (calls === 1 ? 250 + (i % 6) : (i * 7) % 250));
    };
    expect(newRecoveryCode(random)).toBe('074185');
    expect(newRecoverySet()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
