#!/usr/bin/env node
// Runs a command in a private network namespace that has only loopback, so
// the tests (the Worker, Chromium, coturn, everything they start) can reach
// nothing but 127.0.0.1: `unshare -n sh -c 'ip link set lo up && exec <command>'`.
// As root that is a plain network namespace; otherwise `unshare -r -n` (a
// user namespace, which Debian allows unprivileged users). scripts/prereqs.mjs
// has made sure `unshare` and `ip` are there. Only where neither works (not
// Linux, user namespaces disabled) or with EFFIGY_NETNS=0 does the command
// run on the host network, and a note says so.
//
//   node scripts/in-netns.mjs vitest run
import { spawn, spawnSync } from 'node:child_process';
import { locate } from './prereqs.mjs';

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error('usage: node scripts/in-netns.mjs <command> [args…]');
  process.exit(2);
}

const unshare = locate('unshare');
const ip = locate('ip');
const root = process.getuid?.() === 0;
const flags = root ? ['-n'] : ['-r', '-n'];
// `ip` by its path: Debian keeps it in /usr/sbin, which is not on a user's PATH.
const script = (tail) => `"$0" link set lo up${tail}`;

function canIsolate() {
  if (process.env.EFFIGY_NETNS === '0') return 'EFFIGY_NETNS=0';
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (!unshare) return '`unshare` is not installed';
  if (!ip) return '`ip` is not installed (iproute2)';
  const r = spawnSync(unshare, [...flags, 'sh', '-c', script(''), ip], { encoding: 'utf8' });
  if (r.status !== 0) return `\`unshare ${flags.join(' ')}\` did not work here: ${(r.stderr || r.error?.message || '').trim()}`;
  return null;
}

const why = canIsolate();
let child;
if (why === null) {
  console.log('[in-netns] running in a private network namespace (loopback only)');
  child = spawn(unshare, [...flags, 'sh', '-c', script(' && exec "$@"'), ip, ...command], { stdio: 'inherit' });
} else {
  console.log(`[in-netns] note: running with the host's network (${why}); tests still use 127.0.0.1 only.`);
  child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => {
  console.error(`[in-netns] could not start ${command[0]}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
