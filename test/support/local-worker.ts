/**
 * Starts the real Worker the way `npm start` does — `wrangler dev --local`
 * (Miniflare/workerd) with the D1 migrations applied — on a free loopback
 * port, with its state in a fresh temporary directory. For Node tests and
 * benches: `const w = await startLocalWorker(); ...; await w.stop();`.
 *
 * One difference: the Worker is bundled once up front (`wrangler deploy
 * --dry-run` with the project's wrangler.toml, so every test run also
 * proves the deploy bundle builds) and served with `--no-bundle`, so an
 * edit elsewhere in the tree while a test runs cannot make wrangler rebuild
 * and reload it (a reload resets every Durable Object and drops its sockets).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unstable_readConfig } from 'wrangler';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
// "bin/" is not in wrangler's exports map; find it next to package.json.
const WRANGLER = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');

export interface LocalWorker {
  /** http://127.0.0.1:<port> — rooms are at ws://127.0.0.1:<port>/room/<name>. */
  url: string;
  stop(): Promise<void>;
  /** The tail of wrangler's output so far, for diagnosing a failure. */
  logs(): string;
}

export interface LocalWorkerOptions {
  /** Give up if /health does not answer within this time (default 60 s). */
  startTimeoutMs?: number;
  /** Pass wrangler's output through (default: only on failure). */
  verbose?: boolean;
  /** Extra vars for this worker only (e.g. TURN settings in tests), passed as `--var name:value`. */
  vars?: Record<string, string>;
  /** Extra environment for wrangler (e.g. NODE_EXTRA_CA_CERTS: a local push service's certificate, which workerd then trusts). */
  env?: Record<string, string>;
}

/** A port the OS says is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

function run(
  args: string[],
  opts: { verbose: boolean; detached?: boolean; env?: Record<string, string> },
): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
    // No fetch of Cloudflare's `Request.cf` data: nothing goes online, even outside the test namespace.
    env: {
      ...process.env,
      ...opts.env,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      CI: '1',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
    },
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
      if (opts.verbose) process.stderr.write(chunk);
    });
  }
  return { child, output: () => output };
}

const exited = (child: ChildProcess): Promise<number> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode ?? 1)
    : new Promise((r) => child.once('exit', (code) => r(code ?? 1)));

/**
 * If this process dies without calling stop() (a test runner killing its
 * worker, Ctrl-C), a small detached watchdog ends the wrangler process group
 * and removes the state directory, so nothing is left running.
 */
function startWatchdog(group: number, state: string): ChildProcess {
  const script = `
    const [parent, group, state] = [Number(process.argv[1]), Number(process.argv[2]), process.argv[3]];
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const timer = setInterval(() => {
      if (!alive(group)) process.exit(0);
      if (alive(parent)) return;
      clearInterval(timer);
      try { process.kill(-group, "SIGTERM"); } catch {}
      setTimeout(() => {
        try { process.kill(-group, "SIGKILL"); } catch {}
        require("node:fs").rmSync(state, { recursive: true, force: true });
        process.exit(0);
      }, 5000);
    }, 1000);`;
  const child = spawn(process.execPath, ['-e', script, String(process.pid), String(group), state], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

/**
 * The project's wrangler config, pointed at the prebuilt bundle (`no_bundle`)
 * with absolute paths, written as JSON next to the state.
 */
function bundledConfig(bundle: string, dir: string): string {
  const c = unstable_readConfig({ config: join(ROOT, 'wrangler.toml') });
  const abs = (p: string) => resolve(ROOT, p);
  const config = {
    name: c.name,
    main: join(bundle, 'index.js'),
    no_bundle: true,
    compatibility_date: c.compatibility_date,
    compatibility_flags: c.compatibility_flags,
    send_metrics: false,
    vars: c.vars,
    ...(c.assets ? { assets: { ...c.assets, directory: abs(c.assets.directory ?? 'web/dist') } } : {}),
    durable_objects: c.durable_objects,
    migrations: c.migrations,
    d1_databases: c.d1_databases.map((d: { migrations_dir?: string }) => ({ ...d, migrations_dir: abs(d.migrations_dir ?? 'migrations') })),
    r2_buckets: c.r2_buckets,
    triggers: c.triggers,
  };
  const path = join(dir, 'wrangler.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** Builds the web client if it was never built: the Worker's assets directory must exist. */
function ensureAssets(): void {
  const dist = join(ROOT, 'web', 'dist');
  if (existsSync(join(dist, 'index.html'))) return;
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Effigy</title><p>Run npm run build:web for the web client.</p>\n');
}

export async function startLocalWorker(opts: LocalWorkerOptions = {}): Promise<LocalWorker> {
  const verbose = opts.verbose ?? false;
  ensureAssets();
  const state = mkdtempSync(join(tmpdir(), 'effigy-worker-'));
  const cleanup = () => rmSync(state, { recursive: true, force: true });

  const bundle = join(state, 'bundle');
  const config = bundledConfig(bundle, state);
  // The same config for the migrations as for dev, so both address the same local D1.
  const migrate = run(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state, '--config', config], { verbose });
  const build = run(['deploy', '--dry-run', '--outdir', bundle], { verbose });
  const [migrated, built] = await Promise.all([exited(migrate.child), exited(build.child)]);
  if (migrated !== 0 || built !== 0) {
    cleanup();
    throw new Error(`wrangler failed:\n${migrated !== 0 ? migrate.output() : build.output()}`);
  }

  const port = await freePort();
  const inspector = await freePort();
  const dev = run(
    [
      'dev',
      '--local',
      '--config',
      config,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspector),
      '--persist-to',
      state,
      '--show-interactive-dev-session=false',
      '--log-level',
      'log',
      ...Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
    ],
    // Its own process group, so stop() ends wrangler and the workerd it started, and nothing else.
    { verbose, detached: true, ...(opts.env && { env: opts.env }) },
  );
  const url = `http://127.0.0.1:${port}`;
  const watchdog = dev.child.pid === undefined ? undefined : startWatchdog(dev.child.pid, state);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (watchdog?.pid !== undefined) {
      try {
        process.kill(watchdog.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const done = exited(dev.child);
    const pid = dev.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await done;
      clearTimeout(timer);
    }
    cleanup();
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
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
      throw new Error(`wrangler dev did not answer /health within the time limit:\n${dev.output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop, logs: dev.output };
}
