// `npm run deploy`: publish Effigy to the Cloudflare account wrangler is
// logged in to (`npx wrangler login` first). Schema before code, so a new
// Worker never runs against an old D1 schema; except on the very first
// deploy, when the database does not exist until `wrangler deploy`
// provisions it (with the R2 bucket) from wrangler.toml.
import { build } from 'vite';
import { mustWrangler, wrangler } from './wrangler.mjs';

const migrate = ['d1', 'migrations', 'apply', 'DB', '--remote'];

await build({ configFile: 'vite.config.ts', logLevel: 'warn' });

const first = await wrangler(migrate, { interactive: false, capture: true }).done;
if (first.code === 0) {
  await mustWrangler(['deploy']);
} else if (/Couldn't find .*D1 DB/i.test(first.output)) {
  console.log('No D1 database yet: deploying to provision it, then migrating.');
  await mustWrangler(['deploy']);
  await mustWrangler(migrate, { interactive: false });
} else {
  console.error('Remote D1 migrations failed; not deploying. Logged in? Run: npx wrangler login');
  process.exit(first.code);
}
