/** Boot: the service worker (offline shell), the engine on IndexedDB, then the UI. */
import { render } from 'preact';
import { boot, bootError, startNetwork, updateReady } from './engine.ts';
import './style.css';
import { App, preloadTabs } from './ui/app.tsx';

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  const hadController = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (hadController) updateReady.value = true;
  });
  navigator.serviceWorker.register('/sw.js').catch((err: Error) => console.warn('service worker not registered:', err.message));
}

const root = document.getElementById('app') as HTMLElement;
// The "Starting…" placeholder goes: the app renders into an empty container.
const mount = () => {
  root.textContent = '';
  render(<App />, root);
};
boot().then(
  () => {
    mount();
    void startNetwork();
    preloadTabs();
    // Notifications are settings most people never open: their module loads after the first paint.
    void import('./push.ts').then((m) => m.startPush());
  },
  (err: Error) => {
    bootError.value = `${err.message}. If this is a private window, storage may be disabled: Effigy keeps your keys and feeds in this browser's IndexedDB.`;
    mount();
  },
);
