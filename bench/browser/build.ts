/**
 * Builds what the browser suite loads, nothing downloaded: the real web app
 * (web/ → web/dist, as `npm start` serves it, the Worker's assets) and the
 * bench page (bench/browser/page → web/dist/bench, served by the same
 * Worker at /bench/ so its lazy chunks and the engine's validation Worker
 * load from the app's origin; unminified so profiles name functions, each
 * module's code headed by a `// path` line). The app's next build empties
 * web/dist, and the suite removes web/dist/bench when it ends.
 */
import { readdirSync } from 'node:fs';
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

/** The page's entry script, under its directory's assets/. */
export const PAGE_SCRIPT = 'page.js';

/** Returns the directory holding assets/ (the page's script, its lazy chunks, the validation Worker). Build the app first. */
export async function buildPage(): Promise<string> {
  const outDir = join(ROOT, 'web/dist/bench');
  await build({
    configFile: false,
    root: join(ROOT, 'bench/browser/page'),
    base: '/bench/',
    mode: 'production',
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      target: 'es2022',
      reportCompressedSize: false,
      rolldownOptions: { output: { entryFileNames: `assets/${PAGE_SCRIPT}` } },
    },
  });
  return outDir;
}

/** The page's entry script on disk. */
export function pageScript(dir: string): string {
  if (!readdirSync(join(dir, 'assets')).includes(PAGE_SCRIPT)) throw new Error(`the bench page build has no assets/${PAGE_SCRIPT}`);
  return join(dir, 'assets', PAGE_SCRIPT);
}
