// `npm start`: build the web client, bring the local D1 schema up to date,
// then serve everything with `wrangler dev` on http://127.0.0.1:8787.
// Works offline; state (D1, R2, Durable Objects) lives under .wrangler/state.
//
// It prints what a person needs (the URL, where state lives, how to stop)
// and keeps wrangler's start-up chatter (banner, bindings table, migration
// prompt, the cron note) to itself unless something fails; the request log
// passes through.
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { build } from 'vite';
import { nodeProblem } from './prereqs.mjs';
import { mustWrangler, wrangler } from './wrangler.mjs';

const port = Number(process.env.PORT ?? '8787');
const ip = process.env.HOST ?? '127.0.0.1';
const say = (line) => console.log(`[effigy] ${line}`);
const fail = (message) => {
  console.error(`\n${message}\n`);
  process.exit(1);
};

const node = nodeProblem();
if (node) fail(node.trim());
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`PORT must be a port number (1–65535), not "${process.env.PORT}".`);

/** Null if `port` can be listened on at `host` now, else the error code (EADDRINUSE, EACCES, …). */
const listenError = (p, host) =>
  new Promise((done) => {
    const server = createServer();
    server.once('error', (err) => done(err.code ?? String(err)));
    server.listen(p, host, () => server.close(() => done(null)));
  });

async function suggestPort() {
  for (let p = port + 1; p < Math.min(port + 50, 65536); p++) if ((await listenError(p, ip)) === null) return p;
  return port + 1;
}

const command = async () => `${process.env.HOST ? `HOST=${ip} ` : ''}PORT=${await suggestPort()} npm start`;
const busy = async () =>
  `Port ${port} on ${ip} is already in use (another npm start, or another program). Start on a free port:\n\n    ${await command()}`;

// Before building, so a busy port costs nothing.
const problem = await listenError(port, ip);
if (problem === 'EADDRINUSE') fail(await busy());
if (problem) fail(`Cannot listen on ${ip}:${port} (${problem}). Choose another address or port, e.g.:\n\n    ${await command()}`);

say('building the web client (web/dist)…');
await build({ configFile: 'vite.config.ts', logLevel: 'warn' });

// Non-interactive, so wrangler answers its own "apply migrations?" prompt; quiet unless it fails.
const migrated = await mustWrangler(['d1', 'migrations', 'apply', 'DB', '--local'], { interactive: false, quiet: true });
const applied = [...migrated.matchAll(/(\d{4}_\w+\.sql)\s*│\s*✅/g)].map((m) => m[1]);
say(
  /No migrations to apply/i.test(migrated)
    ? 'local D1 database: schema up to date'
    : `local D1 database: applied ${[...new Set(applied)].join(', ') || 'the migrations'}`,
);

// Everything before "Ready on" is kept back, and shown only if wrangler stops before it.
let ready = false;
let early = '';
const NOISE = [
  /Unable to fetch the `Request\.cf` object/,
  /^\s*at .*\(node:|^Error: getaddrinfo/, // the stack such a warning would carry
];
const url = `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
const dev = wrangler(['dev', '--local', '--ip', ip, '--port', String(port), '--show-interactive-dev-session=false'], {
  interactive: false,
  // No banner or update check, and no fetch of Cloudflare's `Request.cf` data: nothing goes online.
  env: { WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  onLine: (line) => {
    if (!ready) {
      early += `${line}\n`;
      if (!/Ready on /.test(line)) return;
      ready = true;
      console.log(
        [
          '',
          `  Effigy is running at ${url}`,
          `  State (D1, R2, Durable Objects): ${resolve('.wrangler/state')} (delete it to start over)`,
          '  Stop: Ctrl-C',
          '',
        ].join('\n'),
      );
      return;
    }
    if (!NOISE.some((re) => re.test(line))) console.log(line);
  },
});
say('starting the Worker (wrangler dev)…');

// Ctrl-C reaches wrangler via the terminal's process group; a plain `kill`
// of this script has to be passed on by hand.
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => dev.child.kill(signal));
}
process.on('SIGINT', () => {});
const { code } = await dev.done;
if (!ready) {
  process.stderr.write(early);
  if (/address already in use|EADDRINUSE/i.test(early)) fail(await busy());
  fail(`wrangler dev stopped before it was ready (exit ${code}); its output is above.`);
}
process.exit(code);
