import { describe, expect, it } from 'vitest';
import { generateKeyPair, keyPairFromSeed, mnemonicToSeed, seedToMnemonic } from '../../src/protocol/index.ts';

describe('mnemonic', () => {
  it('writes a seed as 24 words and restores the same identity', async () => {
    const keys = await generateKeyPair();
    const words = await seedToMnemonic(keys.seed);
    expect(words.split(' ')).toHaveLength(24);
    const seed = await mnemonicToSeed(`  ${words.toUpperCase().replaceAll(' ', '   ')} `);
    if (!seed.ok) throw new Error(`the words did not restore: ${seed.error.message}`);
    expect((await keyPairFromSeed(seed.value)).identity).toBe(keys.identity);
  });

  it('names a wrong checksum word', async () => {
    const words = (await seedToMnemonic((await generateKeyPair()).seed)).split(' ');
    words[23] = words[23] === 'zoo' ? 'abandon' : 'zoo';
    expect(await mnemonicToSeed(words.join(' '))).toMatchObject({ ok: false, error: { message: expect.stringMatching(/checksum/) } });
  });

  it('names an unknown word and a wrong count', async () => {
    const unknown = await mnemonicToSeed(`${'abandon '.repeat(23)}effigy`);
    expect(!unknown.ok && unknown.error.message).toMatch(/word 24 \("effigy"\)/);
    const short = await mnemonicToSeed('abandon abandon');
    expect(!short.ok && short.error.message).toMatch(/24 words/);
  });
});
