#!/usr/bin/env node
// Runs a command in a private network namespace that has only loopback, so
// the tests (the Worker, Chromium, everything they start) can reach nothing
// but 127.0.0.1: `unshare -n sh -c 'ip link set lo up && exec <command>'`.
// That needs root (CI runs as root) plus `unshare` and `ip`; otherwise, or
// with EFFIGY_NETNS=0, the command runs directly and a note says so.
//
//   node scripts/in-netns.mjs vitest run
import { spawn, spawnSync } from 'node:child_process';

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error('usage: node scripts/in-netns.mjs <command> [args…]');
  process.exit(2);
}

const works = (cmd, args) => {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
};

function canIsolate() {
  if (process.env.EFFIGY_NETNS === '0') return 'EFFIGY_NETNS=0';
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root';
  if (!works('unshare', ['--version'])) return '`unshare` is not installed';
  if (!works('unshare', ['-n', 'sh', '-c', 'ip link set lo up'])) return '`unshare -n` or `ip` did not work here (install iproute2?)';
  return null;
}

const why = canIsolate();
const child =
  why === null
    ? spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...command], { stdio: 'inherit' })
    : (console.log(`[in-netns] note: running with the host's network (${why}); tests still use 127.0.0.1 only.`),
      spawn(command[0], command.slice(1), { stdio: 'inherit' }));
if (why === null) console.log('[in-netns] running in a private network namespace (loopback only)');

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => {
  console.error(`[in-netns] could not start ${command[0]}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
