/**
 * Splitting an account's synod seed among friends and putting it back
 * together (docs/protocol.md §9.6), with `shamir-secret-sharing` (audited;
 * GF(2^8) with the polynomial x⁸ + x⁴ + x³ + x + 1, one polynomial of degree
 * k − 1 per byte of the secret). A share is the 32 values of those
 * polynomials at one x, then x itself: 33 bytes.
 *
 * Fewer than k shares say nothing about the seed (every seed is equally
 * consistent with them); k shares from one split give it back. Shares of
 * different splits, or a corrupted share, combine to some other 32 bytes:
 * the seed is only taken once it derives the account's own identity.
 */
import { publicKeyFromSeed } from './ed25519.ts';
import { fromBase64url, identityText, toBase64url, type Identity } from './encoding.ts';
import { fail, ok, type Result } from './errors.ts';
import { RECOVERY } from './recovery.ts';

const SEED_BYTES = 32;

/** The library loads on first use: only recovery needs it, and the app's first screen should not wait for it. */
const shamir = () => import('shamir-secret-sharing');

/** n shares of a 32-byte seed, any k of which give it back; base64url, in the order made. */
export async function splitSeed(seed: Uint8Array, friends: number, threshold: number): Promise<string[]> {
  if (seed.length !== SEED_BYTES) throw new RangeError('a synod seed is 32 bytes');
  if (!Number.isInteger(friends) || friends < RECOVERY.minFriends || friends > RECOVERY.maxFriends)
    throw new RangeError(`between ${RECOVERY.minFriends} and ${RECOVERY.maxFriends} friends`);
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > friends)
    throw new RangeError('the threshold is at least 2 and at most the number of friends');
  return (await (await shamir()).split(seed.slice(), friends, threshold)).map(toBase64url);
}

/** The bytes of a share text, or an error: 33 bytes, x not zero. */
export function shareBytes(text: string): Result<Uint8Array> {
  const bytes = fromBase64url(text, SEED_BYTES + 1);
  if (!bytes.ok) return fail('bad_encoding', `share: ${bytes.error.message}`);
  if (bytes.value[SEED_BYTES] === 0) return fail('bad_encoding', 'share: x is zero');
  return bytes;
}

/** The identity a seed signs as. */
export const identityOfSeed = (seed: Uint8Array): Identity => identityText(publicKeyFromSeed(seed));

/** Put exactly these shares together; the seed only when it is the account's. */
export async function combineShares(shares: readonly string[], account: Identity): Promise<Result<Uint8Array>> {
  const bytes: Uint8Array[] = [];
  for (const s of shares) {
    const b = shareBytes(s);
    if (!b.ok) return b;
    bytes.push(b.value);
  }
  if (new Set(bytes.map((b) => b[SEED_BYTES])).size !== bytes.length) return fail('bad_encoding', 'two shares have the same x');
  if (bytes.length < 2) return fail('bad_schema', 'at least two shares are needed');
  const seed = await (await shamir()).combine(bytes);
  return identityOfSeed(seed) === account
    ? ok(seed)
    : fail('wrong_identity', 'these shares do not give this account back (too few, of different sets, or one is wrong)');
}

/** Every way to choose k of the items, at most `limit` of them. */
function* choices<T>(items: readonly T[], k: number, limit: number): Generator<T[]> {
  let made = 0;
  const pick: number[] = Array.from({ length: k }, (_, i) => i);
  while (made < limit && k <= items.length) {
    yield pick.map((i) => items[i] as T);
    made++;
    let i = k - 1;
    while (i >= 0 && pick[i] === items.length - k + i) i--;
    if (i < 0) return;
    (pick[i] as number)++;
    for (let j = i + 1; j < k; j++) pick[j] = (pick[j - 1] as number) + 1;
  }
}

/**
 * The seed from shares of one set when `threshold` of them are good: tries
 * groups of `threshold` (a friend may have sent a wrong share) until one
 * gives the account back, at most `attempts` groups.
 */
export async function recoverSeed(
  shares: readonly string[],
  threshold: number,
  account: Identity,
  attempts = 500,
): Promise<Result<Uint8Array>> {
  const unique = [...new Set(shares)];
  if (unique.length < threshold) return fail('bad_schema', `${unique.length} of ${threshold} shares so far`);
  let last: Result<Uint8Array> = fail('wrong_identity', 'no group of shares gives this account back');
  for (const group of choices(unique, threshold, attempts)) {
    last = await combineShares(group, account);
    if (last.ok) return last;
  }
  return last;
}
