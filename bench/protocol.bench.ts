/**
 * Protocol core: signing and full entry validation against the raw verify
 * rates of WebCrypto (the baseline) and @noble/curves, all in one run, with
 * the same concurrency (batches of BATCH in flight). Target: validation at
 * >= 80% of the raw WebCrypto verify rate.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { createEntry, domainMessage, fromBase64url, generateKeyPair, openEntry, utf8, type Entry } from '../src/protocol/index.ts';
import { medianRate, printTable } from './table.ts';

const ENTRIES = 2000;
const BATCH = 256;
const ROUNDS = 5;

async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await Promise.all(items.slice(i, i + BATCH).map(run));
}

export default async function protocolBench(): Promise<void> {
  const authors = await Promise.all(Array.from({ length: 8 }, () => generateKeyPair()));
  const entries: Entry[] = [];
  const signRate = await medianRate(1, ENTRIES, async () => {
    for (let i = 0; i < ENTRIES; i++) {
      const keys = authors[i % authors.length]!;
      entries.push(
        await createEntry(keys, {
          parent: null,
          comparable: 1_700_000_000_000 + i,
          synod: null,
          payload: { type: 'public_note', text: `benchmark note ${i} `.padEnd(200, '.') },
        }),
      );
    }
  });

  // The exact (key, message, signature) triples full validation verifies.
  const keys = new Map(
    await Promise.all(
      authors.map(
        async (a) =>
          [
            a.identity,
            await crypto.subtle.importKey('raw', a.publicKey as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']),
          ] as const,
      ),
    ),
  );
  const raw = entries.map((e) => {
    const bytes = utf8(e.text);
    const sig = fromBase64url(e.signature, 64);
    if (!sig.ok) throw new Error('bad fixture');
    const author = authors.find((a) => a.identity === e.body.identity)!;
    return {
      key: keys.get(author.identity)!,
      pub: author.publicKey,
      msg: domainMessage('entry', bytes.subarray(0, bytes.length - 87)) as Uint8Array<ArrayBuffer>,
      sig: sig.value as Uint8Array<ArrayBuffer>,
    };
  });

  let failures = 0;
  const rates = { webcrypto: 0, validate: 0 };
  // Interleave the two that are compared, so drift in machine load hits both.
  const wc: number[] = [];
  const va: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    wc.push(
      await medianRate(1, ENTRIES, () =>
        inBatches(raw, async (x) => {
          if (!(await crypto.subtle.verify({ name: 'Ed25519' }, x.key, x.sig, x.msg))) failures++;
        }),
      ),
    );
    va.push(
      await medianRate(1, ENTRIES, () =>
        inBatches(entries, async (e) => {
          if (!(await openEntry(e.text, { hash: e.hash })).ok) failures++;
        }),
      ),
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  rates.webcrypto = median(wc);
  rates.validate = median(va);
  const nobleCount = 300;
  const nobleRate = await medianRate(3, nobleCount, async () => {
    for (const x of raw.slice(0, nobleCount)) if (!ed25519.verify(x.sig, x.msg, x.pub)) failures++;
  });
  if (failures) throw new Error(`${failures} verifications failed`);

  printTable(`protocol core (${ENTRIES} entries of ~${entries[0]!.size} bytes, ${BATCH} in flight, median of ${ROUNDS})`, [
    { measure: 'entries signed/s (WebCrypto)', rate: signRate, 'vs raw WebCrypto verify': '' },
    {
      measure: 'entries validated/s (full: size, hash, signature, identity, schema)',
      rate: rates.validate,
      'vs raw WebCrypto verify': `${((100 * rates.validate) / rates.webcrypto).toFixed(1)}%`,
    },
    { measure: 'raw WebCrypto Ed25519 verify/s (baseline)', rate: rates.webcrypto, 'vs raw WebCrypto verify': '100%' },
    {
      measure: 'raw @noble/curves Ed25519 verify/s',
      rate: nobleRate,
      'vs raw WebCrypto verify': `${((100 * nobleRate) / rates.webcrypto).toFixed(1)}%`,
    },
  ]);
}
