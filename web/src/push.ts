/**
 * Notifications that wake a closed app (docs/protocol.md §15.6): opting in
 * subscribes this browser with its push service (PushManager, with the
 * server's VAPID key) and registers the subscription with the server that
 * served the app, by a signed request, for this device and its account. The
 * service worker (web/sw.js) shows what arrives; it names a caller only from
 * the names this module leaves in the cache "effigy-push" (people on this
 * device's "may call me" list). Registration is renewed as the app starts.
 */
import { effect, signal } from '@preact/signals';
import type { Identity, PushKind } from '../../src/protocol/index.ts';
import {
  calls,
  deviceKeys,
  membershipEntry,
  peer,
  permittedTick,
  pushConfig,
  registerPush,
  unregisterPush,
  type SubscriptionJson,
} from './engine.ts';

const SETTING = 'push';
const RENEW_MS = 24 * 3600_000;

interface Saved {
  endpoint: string;
  kinds: PushKind[];
  registeredAt: number;
}

export interface PushStatus {
  /** This browser can show notifications and has a push manager. */
  readonly supported: boolean;
  /** The server sends pushes (it has VAPID keys). */
  readonly configured: boolean | null;
  readonly permission: NotificationPermission | 'unsupported';
  /** What this device is woken for; empty when off. */
  readonly kinds: readonly PushKind[];
}

export const pushStatus = signal<PushStatus>({ supported: false, configured: null, permission: 'unsupported', kinds: [] });

const supported = (): boolean => typeof Notification !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in window;

async function saved(): Promise<Saved | null> {
  return (await peer().replica.store.getSetting<Saved>(SETTING)) ?? null;
}

export async function loadPushStatus(): Promise<PushStatus> {
  const s = await saved();
  const config = await pushConfig(location.origin).catch(() => null);
  const status: PushStatus = {
    supported: supported(),
    configured: config ? config.configured : null,
    permission: supported() ? Notification.permission : 'unsupported',
    kinds: s?.kinds ?? [],
  };
  pushStatus.value = status;
  return status;
}

const fromBase64url = (s: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

/** This browser's subscription with its push service, made with the server's key when there is none. */
async function subscription(publicKey: string): Promise<PushSubscription> {
  const registration = await navigator.serviceWorker.ready;
  const existing = await registration.pushManager.getSubscription();
  if (existing) return existing;
  return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64url(publicKey) });
}

async function register(kinds: PushKind[]): Promise<void> {
  const config = await pushConfig(location.origin);
  if (!config.configured || !config.publicKey) throw new Error('this server does not send notifications');
  const sub = (await subscription(config.publicKey)).toJSON() as SubscriptionJson;
  const p = peer();
  await registerPush(location.origin, deviceKeys(), sub, kinds, await membershipEntry(p.replica, p.identity, p.synodIdentity));
  await p.replica.store.putSetting(SETTING, { endpoint: sub.endpoint, kinds, registeredAt: Date.now() } satisfies Saved);
  await writeCallerNames();
}

/** Opt in (or change what for): asks the browser's permission first. */
export async function enablePush(kinds: PushKind[]): Promise<void> {
  if (!supported()) throw new Error('this browser cannot show notifications from a web app');
  if (kinds.length === 0) return disablePush();
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('notifications are blocked for this site: allow them in the browser’s site settings');
  await register(kinds);
  await loadPushStatus();
}

export async function disablePush(): Promise<void> {
  const s = await saved();
  if (s) {
    await unregisterPush(location.origin, deviceKeys(), s.endpoint).catch(() => undefined);
    const sub = await (await navigator.serviceWorker.ready).pushManager.getSubscription().catch(() => null);
    await sub?.unsubscribe().catch(() => undefined);
  }
  await peer().replica.store.putSetting(SETTING, null);
  await loadPushStatus();
}

/** At start: renew a registration older than a day (or whose subscription the browser replaced). */
export async function renewPush(now = Date.now()): Promise<void> {
  const s = await saved();
  if (!s || !supported() || Notification.permission !== 'granted') return;
  const current = await (await navigator.serviceWorker.ready).pushManager.getSubscription().catch(() => null);
  if (current && current.endpoint === s.endpoint && now - s.registeredAt < RENEW_MS) return writeCallerNames();
  await register(s.kinds).catch(() => undefined);
}

/**
 * The names the service worker may show for a call: people on this device's
 * "may call me" list, under their account and each of its devices (a call
 * comes from a device). Nobody else is named.
 */
export async function writeCallerNames(): Promise<void> {
  if (typeof caches === 'undefined') return;
  const p = peer();
  const names: Record<Identity, string> = {};
  for (const person of await calls().permitted()) {
    const name = (await p.profileOf(person)).name?.trim();
    if (!name) continue;
    names[person] = name;
    for (const d of p.synodState(person)?.devices.keys() ?? []) names[d] = name;
  }
  const cache = await caches.open('effigy-push');
  await cache.put('/push/names.json', new Response(JSON.stringify(names), { headers: { 'Content-Type': 'application/json' } }));
}

/** At start: renew the registration, and keep the names of callers current as the list of who may call changes. */
export function startPush(): void {
  void renewPush().catch(() => undefined);
  effect(() => {
    void permittedTick.value;
    void saved().then(
      (s) => (s ? writeCallerNames() : undefined),
      () => undefined,
    );
  });
}
