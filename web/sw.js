/*
 * Effigy's service worker: serves the app shell when the network is gone.
 * Hand-written and dependency-free; the build (vite.config.ts) fills in the
 * list of files and a version. Everything the app needs to start is
 * precached at install, so no file is ever fetched at run time from
 * anywhere but the origin that served the app.
 *
 * - Navigations get the cached shell ("/"): the app routes by #hash.
 * - Precached files (content-hashed names) come from the cache first.
 * - /room/*, /api/* and /health always go to the network: live data.
 */
const PRECACHE = self.__PRECACHE__;
const VERSION = self.__VERSION__;
const CACHE = `effigy-shell-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('effigy-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

const LIVE = /^\/(room|api)\/|^\/health$/;

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || LIVE.test(url.pathname)) return;
  if (request.mode === 'navigate') {
    event.respondWith(caches.open(CACHE).then(async (cache) => (await cache.match('/')) ?? fetch(request)));
    return;
  }
  event.respondWith(caches.open(CACHE).then(async (cache) => (await cache.match(request, { ignoreSearch: true })) ?? fetch(request)));
});
