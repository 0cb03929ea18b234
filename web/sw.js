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

/*
 * Web Push (docs/protocol.md §15.6). A push carries no content and no sender:
 * {kind: "message"}, or {kind: "call", from: <device>} which this device
 * names only if the app stored that caller's name (people on the "may call
 * me" list, in the cache "effigy-push"). While the app is on screen it shows
 * what arrives itself, so no notification then. Clicking opens the
 * conversations, or the call screen, in the open app or a new window.
 */
const NAMES = '/push/names.json';

async function knownName(identity) {
  try {
    const res = await (await caches.open('effigy-push')).match(NAMES);
    const names = res ? await res.json() : {};
    return typeof names[identity] === 'string' ? names[identity] : null;
  } catch {
    return null;
  }
}

async function onPush(data) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  if (windows.some((w) => w.visibilityState === 'visible')) return;
  if (data.kind === 'call' && typeof data.from === 'string') {
    const name = await knownName(data.from);
    return self.registration.showNotification(name ? `Call from ${name}` : 'Missed call', {
      body: name ? 'Open Effigy to answer.' : 'Someone not on your list of who may call you tried to call.',
      tag: 'effigy-call',
      renotify: true,
      requireInteraction: !!name,
      icon: '/icon-192.png',
      data: { url: name ? `/#/calls/${data.from}` : '/#/messages', kind: 'call' },
    });
  }
  return self.registration.showNotification('Effigy', {
    body: 'You have a new message.',
    tag: 'effigy-message',
    icon: '/icon-192.png',
    data: { url: '/#/messages', kind: 'message' },
  });
}

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    // Not JSON: still a wake-up, shown as a message.
  }
  event.waitUntil(onPush(data && typeof data === 'object' ? data : {}));
});

/** The open app goes to `url` (and comes forward); without one, a new window opens there. */
async function openApp(url) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
  if (open) {
    const moved = open.url === url ? open : await open.navigate(url).catch(() => open);
    return (moved ?? open).focus().catch(() => undefined);
  }
  return self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url ?? '/#/messages', self.location.origin).href;
  event.waitUntil(openApp(url));
});
