/**
 * Vectors of recovery through friends (docs/protocol.md §14.9), from the
 * fixed keys of §14.1: shares of S's seed, the share S drops to friend B,
 * the request new device A drops to B, and B's release to A. The shares
 * are fixed values (made once with shamir-secret-sharing, whose randomness
 * cannot be injected): the vector is that any two give S's seed back.
 * `npm run vectors` writes docs/protocol-vectors-recovery.json.
 */
import { keyPairFromSeed, recoveryDrop, toBase64url, type RecoveryMessage } from '../../src/protocol/index.ts';
import { hex, seededRandom, SEED_A, SEED_B, SEED_S } from './vectors.compute.ts';

/** Three shares of S's seed with threshold 2. */
export const SHARES_OF_S = [
  'yWvOfzfRfhRgWHkjBJBpA0YmZsmXF-yvqwufcBR9eaW-',
  '6I1f8btJpSnnKBLHHsElqWrYBOh21Zm58j_g0ClZEoeP',
  'PPeDYevY5xE6tVh9qYjgFmjVAzw3gP-4lkprghF2WPMB',
] as const;

export async function computeRecoveryVectors() {
  const a = await keyPairFromSeed(hex(SEED_A));
  const b = await keyPairFromSeed(hex(SEED_B));
  const s = await keyPairFromSeed(hex(SEED_S));
  const set = toBase64url(seededRandom('effigy recovery set')(16));

  const shareMessage: RecoveryMessage = {
    type: 'recovery_share',
    account: s.identity,
    set,
    threshold: 2,
    friends: 3,
    share: SHARES_OF_S[0],
    name: 'Ada',
  };
  const share = await recoveryDrop(s, [b.identity], shareMessage, {
    now: 1700000000000,
    random: seededRandom('effigy recovery share vector'),
  });

  const requestMessage: RecoveryMessage = {
    type: 'recovery_request',
    name: 'Ada',
    account: s.identity,
    code: '123456',
    replyTo: ['https://effigy.example'],
  };
  const request = await recoveryDrop(a, [b.identity], requestMessage, {
    now: 1700000000001,
    random: seededRandom('effigy recovery request vector'),
  });

  const releaseMessage: RecoveryMessage = {
    type: 'recovery_release',
    account: s.identity,
    set,
    threshold: 2,
    friends: 3,
    share: SHARES_OF_S[0],
    request: request.hash,
  };
  const release = await recoveryDrop(b, [a.identity], releaseMessage, {
    now: 1700000000002,
    random: seededRandom('effigy recovery release vector'),
  });

  const drop = (e: typeof share, message: RecoveryMessage, reader: string) => ({
    author: e.body.identity,
    reader,
    message: JSON.stringify(message),
    entry: e.text,
    hash: e.hash,
  });
  return {
    shares: { seed: SEED_S, account: s.identity, threshold: 2, shares: [...SHARES_OF_S] },
    set,
    share: drop(share, shareMessage, b.identity),
    request: drop(request, requestMessage, b.identity),
    release: drop(release, releaseMessage, a.identity),
  };
}

export type RecoveryVectors = Awaited<ReturnType<typeof computeRecoveryVectors>>;
