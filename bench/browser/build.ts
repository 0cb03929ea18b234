/**
 * Builds what the browser suite loads, nothing downloaded: the real web app
 * (web/ → web/dist, as `npm start` serves it, the Worker's assets) and the
 * bench page (bench/browser/page → one script in a temporary directory,
 * unminified so profiles name functions, each module's code headed by a
 * `// path` line).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export async function buildApp(): Promise<void> {
  // Vitest or a shell may set NODE_ENV; the app must be the production build the Worker serves.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(ROOT, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

/** Returns the directory holding assets/ (one bundle, see `pageScript`). */
export async function buildPage(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'effigy-bench-page-'));
  await build({
    configFile: false,
    root: join(ROOT, 'bench/browser/page'),
    mode: 'production',
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, minify: false, target: 'es2022', reportCompressedSize: false },
  });
  return outDir;
}

/** The page's one script (everything bundled into it: nothing else to serve). */
export function pageScript(dir: string): string {
  const scripts = readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.js'));
  if (scripts.length !== 1) throw new Error(`expected one bench page script, found ${scripts.join(', ') || 'none'}`);
  return join(dir, 'assets', scripts[0] as string);
}
