/**
 * Scanning with the camera (Chromium's fake camera plays a video of a QR
 * code; the app reads it with jsQR or the browser's BarcodeDetector):
 * someone's invite QR code, ready to follow; and linking a device as Signal
 * does, the new device showing a QR code and the old one scanning it, at a
 * phone's width and at a desktop's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import {
  createIdentity,
  DESKTOP,
  launch,
  nav,
  PHONE,
  postNote,
  profile,
  screenshotsOnFailure,
  settings,
  shot,
  visible,
} from './browser.ts';
import { qrVideo } from './images.ts';

const url = inject('workerUrl');
const browsers: Browser[] = [];
const dir = mkdtempSync(join(tmpdir(), 'effigy-e2e-qr-'));

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await screenshotsOnFailure(ctx.task.name);
});

afterAll(async () => {
  for (const b of browsers) await b.close();
});

describe('scanning a QR code', () => {
  it("reads someone's invite QR code from the camera and follows them", async () => {
    const first = await launch();
    browsers.push(first);
    const frank = await profile(first, url);
    await createIdentity(frank.page, 'Frank');
    await nav(frank.page, 'Me');
    // What Frank's QR code holds: his invite link.
    const link = (await frank.page.locator('.identity-card code[data-invite]').getAttribute('data-invite')) ?? '';
    const account = (await frank.page.locator('.identity-card code[data-identity]').getAttribute('data-identity')) ?? '';
    expect(link).toBe(`${url}/#/add/${account}`);

    const video = join(dir, 'invite.y4m');
    writeFileSync(video, await qrVideo(link));
    const second = await launch({ camera: video });
    browsers.push(second);
    const erin = await profile(second, url);
    await createIdentity(erin.page, 'Erin');
    await nav(erin.page, 'People');
    await erin.page.getByRole('button', { name: 'Scan' }).click();
    const field = erin.page.getByLabel('Their link or identity');
    await expect.poll(() => field.inputValue(), { timeout: 20_000 }).toContain(account);
    await erin.page.locator('.found').getByRole('button', { name: 'Follow', exact: true }).click();
    await visible(erin.page.locator('.found').getByText('Following', { exact: true }));
    await visible(erin.page.locator('ul.people').getByRole('link', { name: 'Frank' }), 30_000);
    await shot(erin.page, '18-scanned-and-followed');

    // Muting: only Erin knows; Frank moves to the blocked-and-muted list.
    await erin.page.locator('ul.people').getByRole('link', { name: 'Frank' }).first().click();
    await visible(erin.page.getByRole('heading', { name: 'Frank' }));
    await erin.page.getByRole('button', { name: 'Mute' }).click();
    await visible(erin.page.getByText('Blocked or muted'));
    await nav(erin.page, 'People');
    await visible(erin.page.locator('section', { hasText: 'Blocked and muted' }).getByRole('link', { name: 'Frank' }));
    expect(erin.errors).toEqual([]);
  });

  it.each([
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const)('links a new device by scanning the QR code it shows (%s)', async (width, viewport) => {
    // The old device's camera will see whatever this file holds once the new device shows its code.
    const video = join(dir, `pair-${width}.y4m`);
    writeFileSync(video, await qrVideo('nothing yet'));
    const old = await launch({ camera: video });
    browsers.push(old);
    const gina = await profile(old, url, viewport);
    await createIdentity(gina.page, 'Gina');
    await postNote(gina.page, `Gina on her ${width}`);

    const fresh = await launch();
    browsers.push(fresh);
    const tablet = await profile(fresh, url, viewport);
    await tablet.page.goto('/');
    await tablet.page.getByRole('button', { name: 'I have an account' }).click();
    await tablet.page.getByRole('button', { name: 'Link this device' }).click();
    await tablet.page.getByLabel('Name for this device').fill('Tablet');
    await tablet.page.getByRole('button', { name: 'Next' }).click();
    await visible(tablet.page.getByRole('img', { name: 'Pairing QR code' }));
    const code = (await tablet.page.getByTestId('pair-code').getAttribute('data-code')) ?? '';
    await shot(tablet.page, `${width}-link-this-device`);
    writeFileSync(video, await qrVideo(`${url}/#/pair/${code}`));

    await settings(gina.page, 'Devices');
    await gina.page.getByRole('button', { name: 'Link a new device' }).click();
    await gina.page.getByRole('button', { name: 'Scan the QR code' }).click();
    await visible(gina.page.locator('.device', { hasText: 'Tablet' }), 30_000);
    await visible(gina.page.getByText('Tablet is now linked to your account.'));

    await visible(tablet.page.getByRole('heading', { name: 'Home' }), 45_000);
    await visible(tablet.page.locator('article.entry', { hasText: `Gina on her ${width}` }), 45_000);
    expect(gina.errors).toEqual([]);
    expect(tablet.errors).toEqual([]);
  });
});
