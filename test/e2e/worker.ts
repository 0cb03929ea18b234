/**
 * The Worker for end-to-end tests, run the way `npm start` runs it:
 * `wrangler dev --local` on a free loopback port, D1 migrations applied, all
 * state in a fresh temporary directory that is removed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const WRANGLER = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');

export interface RunningWorker {
  url: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

function wrangler(args: string[], detached = false): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-100_000);
    });
  }
  return { child, output: () => output };
}

const exited = (child: ChildProcess): Promise<number> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode ?? 1) : new Promise((r) => child.once('exit', (code) => r(code ?? 1)));

/** `vars`: extra Worker vars for this run only (e.g. TURN_URLS and TURN_SECRET for a local coturn). */
export async function startWorker(timeoutMs = 60_000, vars: Record<string, string> = {}): Promise<RunningWorker> {
  const state = mkdtempSync(join(tmpdir(), 'effigy-e2e-'));
  const migrate = wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state]);
  if ((await exited(migrate.child)) !== 0) {
    rmSync(state, { recursive: true, force: true });
    throw new Error(`wrangler d1 migrations apply failed:\n${migrate.output()}`);
  }
  const port = await freePort();
  const inspector = await freePort();
  // Its own process group, so stop() ends wrangler and the workerd it started, and nothing else.
  const dev = wrangler(
    ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector), '--persist-to', state, '--show-interactive-dev-session=false', '--log-level', 'warn', ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])],
    true,
  );
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const pid = dev.child.pid;
    const done = exited(dev.child);
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // gone already
      }
      const kill = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }, 5000);
      await done;
      clearTimeout(kill);
    }
    rmSync(state, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (dev.child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited (${dev.child.exitCode}):\n${dev.output()}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer /health in ${timeoutMs / 1000} s:\n${dev.output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop };
}
