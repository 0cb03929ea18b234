/**
 * A seed written down as 24 BIP39 words: the 32-byte seed is the BIP39
 * entropy itself (no PBKDF2 stretch), so words → seed → identity is a pure
 * function and restoring gives the very same key. The word list loads when
 * words are first written or read (account creation, restore, showing the
 * words), not with everything else.
 */
import { fail, ok, type Result } from './errors.ts';

const bip39 = () => Promise.all([import('@scure/bip39'), import('@scure/bip39/wordlists/english.js')]);

export async function seedToMnemonic(seed: Uint8Array): Promise<string> {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const [{ entropyToMnemonic }, { wordlist }] = await bip39();
  return entropyToMnemonic(seed, wordlist);
}

/** Tolerates case and extra whitespace; says which word is unknown or that the checksum fails. */
export async function mnemonicToSeed(phrase: string): Promise<Result<Uint8Array>> {
  const words = phrase.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length !== 24) return fail('bad_encoding', `a recovery phrase has 24 words, this has ${words.length}`);
  const [{ mnemonicToEntropy }, { wordlist }] = await bip39();
  const unknown = words.findIndex((w) => !wordlist.includes(w));
  if (unknown >= 0) return fail('bad_encoding', `word ${unknown + 1} ("${words[unknown]}") is not in the BIP39 English list`);
  try {
    return ok(mnemonicToEntropy(words.join(' '), wordlist));
  } catch {
    return fail('bad_encoding', 'the words do not match their checksum: one of them is wrong or out of order');
  }
}
