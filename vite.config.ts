import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('./web', import.meta.url));

/**
 * The service worker: web/sw.js is a hand-written, dependency-free worker;
 * at build time this plugin fills in the list of files to precache (every
 * emitted asset plus the public files) and a version derived from their
 * names, so each deploy installs a fresh cache and drops the old one.
 */
function serviceWorker(): Plugin {
  // "/" rather than "/index.html": the asset server redirects the latter,
  // and a redirected response cannot answer a navigation.
  const publicFiles = [
    '/',
    '/manifest.webmanifest',
    '/icon.svg',
    '/icon-192.png',
    '/icon-512.png',
    '/icon-maskable-512.png',
    '/apple-touch-icon.png',
  ];
  return {
    name: 'effigy-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const built = Object.keys(bundle).map((f) => `/${f}`);
      const files = [...new Set([...publicFiles, ...built])].filter((f) => !f.endsWith('.map') && f !== '/index.html').sort();
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
      const source = readFileSync(new URL('./web/sw.js', import.meta.url), 'utf8')
        .replace('self.__PRECACHE__', JSON.stringify(files))
        .replace('self.__VERSION__', JSON.stringify(version));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

/**
 * Prints the JavaScript the app loads, raw and gzipped, whatever the log
 * level (`npm start` builds quietly): the entry chunk and its static imports
 * load first; lazy chunks (QR scanner, EXIF reader) only when used.
 */
function bundleReport(): Plugin {
  return {
    name: 'effigy-bundle-report',
    apply: 'build',
    writeBundle(_options, bundle) {
      let initial = { raw: 0, gz: 0 };
      let lazy = { raw: 0, gz: 0 };
      const entry = Object.values(bundle).find((c) => c.type === 'chunk' && c.isEntry);
      const eager = new Set<string>();
      const visit = (name: string) => {
        const chunk = bundle[name];
        if (!chunk || chunk.type !== 'chunk' || eager.has(name)) return;
        eager.add(name);
        chunk.imports.forEach(visit);
      };
      if (entry) visit(entry.fileName);
      for (const file of Object.values(bundle)) {
        if (file.type !== 'chunk') continue;
        const raw = Buffer.byteLength(file.code);
        const gz = gzipSync(file.code, { level: 9 }).length;
        if (eager.has(file.fileName)) initial = { raw: initial.raw + raw, gz: initial.gz + gz };
        else lazy = { raw: lazy.raw + raw, gz: lazy.gz + gz };
      }
      const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
      console.log(
        `[effigy] JS bundle: initial ${kb(initial.raw)} (gzip ${kb(initial.gz)}); ` + `lazy chunks ${kb(lazy.raw)} (gzip ${kb(lazy.gz)})`,
      );
    },
  };
}

// The Worker serves web/dist as static assets (wrangler.toml [assets]).
export default defineConfig({
  root,
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  plugins: [serviceWorker(), bundleReport()],
});
