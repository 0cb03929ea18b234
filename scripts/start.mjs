// `npm start`: build the web client, bring the local D1 schema up to date,
// then serve everything with `wrangler dev` on http://127.0.0.1:8787.
// Works offline; state (D1, R2, Durable Objects) lives under .wrangler/state.
import { build } from 'vite';
import { mustWrangler, wrangler } from './wrangler.mjs';

const port = process.env.PORT ?? '8787';
const ip = process.env.HOST ?? '127.0.0.1';

await build({ configFile: 'vite.config.ts', logLevel: 'warn' });
await mustWrangler(['d1', 'migrations', 'apply', 'DB', '--local'], { interactive: false });

const dev = wrangler(['dev', '--local', '--ip', ip, '--port', port]);
// Ctrl-C reaches wrangler via the terminal's process group; a plain `kill`
// of this script has to be passed on by hand.
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => dev.child.kill(signal));
}
process.on('SIGINT', () => {});
const { code } = await dev.done;
process.exit(code);
