/**
 * Notifications that wake a closed app, end to end in Chromium. No real push
 * service can be reached here, so the test runs one (test/support/
 * push-service.ts: VAPID checked, payload decrypted) and hands each push to
 * Chromium's service worker through the DevTools protocol
 * (ServiceWorker.deliverPushMessage); the page's PushManager is given that
 * service's subscription (headless Chromium has no push service to
 * subscribe with). Everything else is real: the Worker, its D1 and rooms,
 * the app's opt-in, the signed registration, the service worker.
 *
 * A drop for Ada while her app is closed shows "You have a new message";
 * clicking it opens the conversations. Bo calls Ada while her app is closed:
 * "Call from Bo"; the click opens the call screen, the call rings there once
 * her app is back in the room, and connects. Prints the time from a drop's
 * arrival at the Worker to the notification shown.
 */
import type { Browser, BrowserContext, CDPSession, Page, Worker } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import { dropboxRoom } from '../../src/peer/dropbox.ts';
import type { Identity } from '../../src/protocol/index.ts';
import { startPushService, vapidKeys, type PushService, type TestSubscription } from '../support/push-service.ts';
import {
  axeViolations,
  createIdentity,
  follow,
  identities,
  launch,
  linkTransport,
  nav,
  postNote,
  profile,
  screenshotsOnFailure,
  settings,
  shot,
  DESKTOP,
  PHONE,
  visible,
} from './browser.ts';
import { startWorker, type RunningWorker } from './worker.ts';

let worker: RunningWorker;
let service: PushService;
let browser: Browser;
const contexts: BrowserContext[] = [];
const peers: Peer[] = [];
const timings: { toService: number; toWorker: number; shown: number }[] = [];

/** The parts of a service worker's global scope the test reaches (the project's types have no WebWorker lib). */
interface SwScope {
  registration: { getNotifications(): Promise<Notification[]> };
  clients: { openWindow(url: string | URL): Promise<unknown> };
  dispatchEvent(event: Event): boolean;
  NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
  opened?: string | undefined;
}

interface Shown {
  title: string;
  body: string;
  data: { url: string; kind: string };
  timestamp: number;
}

/** A person whose PushManager subscribes with the test's push service; their pushes reach their service worker through CDP. */
async function person(name: string) {
  const sub = await service.subscribe();
  const { context, page } = await profile(browser, worker.url);
  contexts.push(context);
  // Per origin, Chromium takes the whole list: without camera and microphone it gathers no ICE candidates here.
  await context.grantPermissions(['notifications', 'camera', 'microphone'], { origin: worker.url });
  await context.addInitScript((json) => {
    const fake = { endpoint: json.endpoint, expirationTime: null, options: { userVisibleOnly: true }, toJSON: () => json };
    let current: unknown = null;
    PushManager.prototype.subscribe = async () => (
      (current = { ...fake, unsubscribe: async () => ((current = null), true) }),
      current as PushSubscription
    );
    PushManager.prototype.getSubscription = async () => current as PushSubscription | null;
  }, sub.json);
  await createIdentity(page, name);
  const ids = await identities(page);
  const cdp = await context.newCDPSession(page);
  const registrations: string[] = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: { registrationId: string; isDeleted: boolean }[] }) =>
    registrations.push(...e.registrations.filter((r) => !r.isDeleted).map((r) => r.registrationId)),
  );
  await cdp.send('ServiceWorker.enable');
  await expect.poll(() => registrations.length, { timeout: 10_000 }).toBeGreaterThan(0);
  const delivered: number[] = [];
  deliveries.set(sub, { cdp, registrationId: registrations[0] as string, delivered });
  return { context, page, sub, delivered, ...ids };
}

const deliveries = new Map<TestSubscription, { cdp: CDPSession; registrationId: string; delivered: number[] }>();

async function serviceWorker(context: BrowserContext): Promise<Worker> {
  await expect.poll(() => context.serviceWorkers().length, { timeout: 10_000 }).toBeGreaterThan(0);
  return context.serviceWorkers()[0] as Worker;
}

const notifications = (sw: Worker): Promise<Shown[]> =>
  sw.evaluate(async () =>
    (await (self as unknown as SwScope).registration.getNotifications()).map((n) => ({
      title: n.title,
      body: n.body,
      data: n.data as { url: string; kind: string },
      timestamp: (n as Notification & { timestamp: number }).timestamp,
    })),
  );

/**
 * A click on the notification, as far as headless Chromium allows: the
 * worker's own `notificationclick` handler runs. A synthetic event carries no
 * user activation, so `clients.openWindow` is refused; the window it asks
 * for is recorded instead, for the test to open as the browser would.
 */
const click = (sw: Worker): Promise<string | null> =>
  sw.evaluate(async () => {
    const scope = self as unknown as SwScope;
    const [n] = await scope.registration.getNotifications();
    if (!n) return null;
    scope.opened = undefined;
    scope.clients.openWindow = async (url: string | URL) => ((scope.opened = String(url)), null);
    try {
      scope.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification: n }));
    } catch {
      // waitUntil refuses an untrusted event; the handler has run up to it.
    }
    for (let i = 0; i < 50 && scope.opened === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    return scope.opened ?? 'navigated';
  });

async function closeApp(page: Page): Promise<void> {
  await page.goto('about:blank');
}

async function bothWidths(page: Page, name: string): Promise<void> {
  await page.setViewportSize(PHONE);
  await shot(page, `${name}-390`);
  await page.setViewportSize(DESKTOP);
  await shot(page, `${name}-1280`);
  await page.setViewportSize(PHONE);
}

describe('notifications that wake a closed app', () => {
  beforeAll(async () => {
    const vapid = await vapidKeys();
    service = await startPushService(vapid.publicKey);
    worker = await startWorker(
      60_000,
      { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: vapid.subject, PUSH_SERVICES: service.host },
      { NODE_EXTRA_CA_CERTS: service.caFile },
    );
    service.onPush = async (sub, plaintext) => {
      const d = deliveries.get(sub);
      if (!d) return;
      d.delivered.push(Date.now());
      await d.cdp.send('ServiceWorker.deliverPushMessage', { origin: worker.url, registrationId: d.registrationId, data: plaintext });
    };
    browser = await launch();
  }, 120_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await screenshotsOnFailure(ctx.task.name);
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await worker?.stop();
    await service?.stop();
    if (timings.length) {
      const med = (k: keyof (typeof timings)[number]) =>
        [...timings.map((t) => t[k])].sort((a, b) => a - b)[Math.floor(timings.length / 2)];
      console.log(
        [
          '',
          `| drop for a closed app, loopback (median of ${timings.length}) | ms |`,
          '|---|---:|',
          `| drop sent to the Worker → push at the push service | ${med('toService')} |`,
          `| → handed to the service worker (decrypted, CDP) | ${med('toWorker')} |`,
          `| drop sent → notification shown | ${med('shown')} |`,
        ].join('\n'),
      );
    }
  });

  it('a drop for a closed app shows a notification; clicking it opens the conversations', async () => {
    const ada = await person('Ada');
    await settings(ada.page, 'Notifications');
    await bothWidths(ada.page, '60-notifications-off');
    expect(await axeViolations(ada.page)).toEqual([]);
    await ada.page.getByRole('button', { name: 'Turn on notifications' }).click();
    await visible(ada.page.locator('[data-testid=push-state][data-on=true]'));
    await bothWidths(ada.page, '61-notifications-on');
    const sw = await serviceWorker(ada.context);

    // Strangers write while the app is closed (page gone, service worker alive).
    await closeApp(ada.page);
    const origin = worker.url;
    for (let i = 0; i < 5; i++) {
      const stranger = await Peer.open({ store: new MemoryStore() });
      peers.push(stranger);
      // In the dropbox room already, so the time is the Worker's, not a connection's.
      const room = stranger.connect(dropboxRoom(origin));
      if (room.status !== 'online') await room.events.once('status', (s) => s === 'online');
      await sw.evaluate(async () => (await (self as unknown as SwScope).registration.getNotifications()).forEach((n) => n.close()));
      const before = ada.sub.received.length;
      const sent = Date.now();
      await stranger.sendMessage([ada.account as Identity], `Hello from stranger ${i}`, { via: () => dropboxRoom(origin) });
      await expect.poll(async () => (await notifications(sw)).length, { timeout: 20_000 }).toBe(1);
      const [shown] = await notifications(sw);
      expect(shown).toMatchObject({ title: 'Effigy', body: 'You have a new message.', data: { url: '/#/messages', kind: 'message' } });
      const push = ada.sub.received[before]!;
      expect(push.plaintext).toBe('{"v":1,"kind":"message"}');
      timings.push({ toService: push.at - sent, toWorker: ada.delivered.at(-1)! - sent, shown: shown!.timestamp - sent });
    }

    // The click: with the app closed it asks for a window on the conversations; opened, it shows the strangers' requests.
    expect(await click(sw)).toBe(`${origin}/#/messages`);
    await ada.page.goto(`${origin}/#/messages`);
    await visible(ada.page.getByRole('heading', { name: 'Messages', level: 2 }));
    await visible(ada.page.locator('.thread-row', { hasText: 'Hello from stranger 4' }), 30_000);
    expect(await notifications(sw)).toEqual([]);

    // With the app open in the background, the click brings it to the conversations.
    await nav(ada.page, 'Home');
    const stranger = peers[0]!;
    await closeApp(ada.page);
    await stranger.sendMessage([ada.account as Identity], 'One more', { via: () => dropboxRoom(origin) });
    await expect.poll(async () => (await notifications(sw)).length, { timeout: 20_000 }).toBe(1);
    await ada.page.goto(`${origin}/#/home`);
    await visible(ada.page.getByRole('heading', { name: 'Home', level: 2 }));
    expect(await click(sw)).toBe('navigated');
    await ada.page.waitForURL(/#\/messages$/);
    await visible(ada.page.getByRole('heading', { name: 'Messages', level: 2 }));
  });

  it('a call to someone whose app is closed: "Call from Bo", the click opens the call screen, and it rings and connects there', async () => {
    const ada = await person('Ada');
    const bo = await person('Bo');
    await follow(ada.page, bo.account);
    await follow(bo.page, ada.account);
    await postNote(bo.page, 'Bo follows Ada');
    await nav(ada.page, 'Home');
    await visible(ada.page.locator('article.entry', { hasText: 'Bo follows Ada' }), 45_000);
    for (const [who, other] of [
      [ada, bo],
      [bo, ada],
    ] as const) {
      expect(await linkTransport(who.page, other.device)).toBe('webrtc');
      const row = who.page.locator(`[data-testid=peers] li[data-identity="${other.device}"]`);
      await row.getByLabel('may call me').click();
      await visible(row.getByRole('button', { name: 'Video call' }));
    }
    await settings(ada.page, 'Notifications');
    await ada.page.getByRole('button', { name: 'Turn on notifications' }).click();
    await visible(ada.page.locator('[data-testid=push-state][data-on=true]'));
    const sw = await serviceWorker(ada.context);

    await closeApp(ada.page);
    // Bo's app sees Ada go; he calls her device.
    await bo.page.waitForFunction(
      (d) => !(globalThis as unknown as { effigy: Peer }).effigy.links().some((l) => l.identity === d),
      ada.device,
    );
    await bo.page.evaluate(
      (d) => (globalThis as unknown as { effigyCalls: { call(d: string, v: boolean): Promise<unknown> } }).effigyCalls.call(d, false),
      ada.device,
    );
    await expect.poll(async () => (await notifications(sw)).map((n) => n.title), { timeout: 20_000 }).toEqual(['Call from Bo']);
    const [shown] = await notifications(sw);
    expect(shown!.data).toEqual({ url: `/#/calls/${bo.device}`, kind: 'call' });
    expect(JSON.parse(ada.sub.received.at(-1)!.plaintext)).toEqual({ v: 1, kind: 'call', from: bo.device });

    const url = await click(sw);
    expect(url).toBe(`${worker.url}/#/calls/${bo.device}`);
    await ada.page.goto(url!);
    const ringing = ada.page.locator('[data-testid=call][data-state=ringing]');
    await visible(ringing, 30_000);
    await bothWidths(ada.page, '62-call-from-notification');
    await ringing.getByRole('button', { name: 'Accept' }).click();
    await visible(ada.page.locator('[data-testid=call][data-state=active]'), 30_000);
    await visible(bo.page.locator('[data-testid=call][data-state=active]'), 30_000);
    await ada.page.getByTestId('call').getByRole('button', { name: 'Hang up' }).click();
    await visible(bo.page.locator('[data-testid=call][data-state=ended]'));
  });

  it('the call screen, opened with no call coming, says what happens', async () => {
    const { context, page } = await profile(browser, worker.url);
    contexts.push(context);
    await createIdentity(page, 'Cy');
    await page.goto(`${worker.url}/#/calls/@11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo`);
    await visible(page.getByTestId('call-waiting'));
    await bothWidths(page, '63-call-waiting');
    expect(await axeViolations(page)).toEqual([]);
  });
});
