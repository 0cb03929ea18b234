/**
 * coturn from Debian's packages, run by the tests on 127.0.0.1 with a shared
 * secret (the TURN REST scheme the Worker mints credentials for). Random free
 * ports, state in a temporary directory, stopped by its PID.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningTurn {
  /** e.g. "turn:127.0.0.1:40123?transport=udp" */
  url: string;
  secret: string;
  log: () => string;
  stop(): Promise<void>;
}

export const TURNSERVER = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';
export const turnAvailable = (): boolean => existsSync(TURNSERVER);

/** A UDP port that is free right now. */
function freeUdpPort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createSocket('udp4');
    s.on('error', fail);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => done(port));
    });
  });
}

export async function startCoturn(): Promise<RunningTurn> {
  const dir = mkdtempSync(join(tmpdir(), 'effigy-coturn-'));
  const conf = join(dir, 'empty.conf');
  writeFileSync(conf, '');
  const secret = randomBytes(24).toString('hex');
  const port = await freeUdpPort();
  const lo = 20_000 + Math.floor(Math.random() * 30_000);
  const pidfile = join(dir, 'turnserver.pid');
  const logFile = join(dir, 'turn.log');
  const child = spawn(
    TURNSERVER,
    [
      '-c',
      conf,
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      `--min-port=${lo}`,
      `--max-port=${lo + 200}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=effigy.test',
      '--fingerprint',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--allow-loopback-peers',
      '--no-multicast-peers',
      `--userdb=${join(dir, 'turndb')}`,
      `--pidfile=${pidfile}`,
      `--log-file=${logFile}`,
      '--simple-log',
      '--no-stdout-log',
    ],
    { stdio: 'ignore' },
  );
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once it listens: coturn logs the listener within ~100 ms.
  const deadline = Date.now() + 10_000;
  while (!/listener opened on|Total General servers/i.test(log())) {
    if (child.exitCode !== null) throw new Error(`turnserver exited (${child.exitCode}):\n${log()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`turnserver did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 150));
  return { url: `turn:127.0.0.1:${port}?transport=udp`, secret, log, stop };
}
