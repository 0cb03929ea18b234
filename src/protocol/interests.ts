/**
 * Interest lists (docs/protocol.md §13.7): the identities one peer asks
 * another to keep it up to date on, named by a digest so that reconnecting
 * peers can tell in one hash whether they still agree on the list.
 */
import { utf8 } from './bytes.ts';
import type { Hash, Identity } from './encoding.ts';
import { hashOf } from './hash.ts';

/** SHA-256 of the identities, sorted by UTF-16 code units, each followed by "\n" (the empty list: SHA-256 of nothing). */
export function interestDigest(identities: Iterable<Identity>): Hash {
  const sorted = [...new Set(identities)].sort();
  return hashOf(utf8(sorted.map((i) => `${i}\n`).join('')));
}
