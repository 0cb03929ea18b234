/** Regenerates docs/protocol-vectors*.json. Run only when the protocol changes on purpose. */
import { writeFileSync } from 'node:fs';
import { computeRecoveryVectors } from '../test/protocol/recovery-vectors.compute.ts';
import { computeVectors } from '../test/protocol/vectors.compute.ts';

const write = (name: string, value: unknown) => {
  writeFileSync(new URL(`../docs/${name}`, import.meta.url), `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote docs/${name}`);
};
write('protocol-vectors.json', await computeVectors());
write('protocol-vectors-recovery.json', await computeRecoveryVectors());
