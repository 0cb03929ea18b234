/**
 * coturn from Debian's packages, run by the tests on 127.0.0.1 with a shared
 * secret (the TURN REST scheme the Worker mints credentials for). Random free
 * ports, state in a temporary directory, stopped by its PID.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locate } from '../../scripts/prereqs.mjs';

export interface RunningTurn {
  /** e.g. "turn:127.0.0.1:40123?transport=udp" */
  url: string;
  secret: string;
  /** The ports coturn relays from: an address in this range is coturn's, not a browser's. */
  relayPorts: readonly [number, number];
  log: () => string;
  stop(): Promise<void>;
}

/** coturn's server, where scripts/prereqs.mjs (the first step of `npm test`) found or installed it. */
export function turnserverPath(): string {
  const path = locate('turnserver', { envVar: 'TURNSERVER_PATH' });
  if (path === null) {
    throw new Error(
      'coturn is not installed (no `turnserver` on PATH, TURNSERVER_PATH unset): the TURN tests need it. ' +
        '`npm test` installs it when it can; or run `sudo apt-get install -y coturn`.',
    );
  }
  return path;
}

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

/** Whether a STUN Binding request (RFC 8489 §5) to 127.0.0.1:`port` gets its success response within 100 ms. */
function answersStun(port: number): Promise<boolean> {
  const id = randomBytes(12);
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]);
  return new Promise((done) => {
    const s = createSocket('udp4');
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      s.close();
      done(ok);
    };
    const timer = setTimeout(() => finish(false), 100);
    s.on('error', () => finish(false));
    s.on('message', (m) => m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(id) && finish(true));
    s.send(request, port, '127.0.0.1');
  });
}

export async function startCoturn(): Promise<RunningTurn> {
  const turnserver = turnserverPath();
  const dir = mkdtempSync(join(tmpdir(), 'effigy-coturn-'));
  const conf = join(dir, 'empty.conf');
  writeFileSync(conf, '');
  const secret = randomBytes(24).toString('hex');
  const port = await freeUdpPort();
  const lo = 20_000 + Math.floor(Math.random() * 30_000);
  const pidfile = join(dir, 'turnserver.pid');
  const logFile = join(dir, 'turn.log');
  const child = spawn(
    turnserver,
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
  // Ready once it answers a STUN Binding request on its port (within ~100 ms here).
  const deadline = Date.now() + 10_000;
  while (!(await answersStun(port))) {
    if (child.exitCode !== null) throw new Error(`turnserver exited (${child.exitCode}):\n${log()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`turnserver did not start:\n${log()}`);
    }
  }
  return { url: `turn:127.0.0.1:${port}?transport=udp`, secret, relayPorts: [lo, lo + 200], log, stop };
}
