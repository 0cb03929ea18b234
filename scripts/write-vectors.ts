/** Regenerates docs/protocol-vectors.json. Run only when the protocol changes on purpose. */
import { writeFileSync } from 'node:fs';
import { computeVectors } from '../test/protocol/vectors.compute.ts';

const vectors = await computeVectors();
writeFileSync(new URL('../docs/protocol-vectors.json', import.meta.url), `${JSON.stringify(vectors, null, 2)}\n`);
console.log('wrote docs/protocol-vectors.json');
