/**
 * Scanning: the camera sees someone's identity QR code (Chromium's fake
 * camera plays a video of it) and the app reads it (jsQR, or the browser's
 * BarcodeDetector), ready to follow.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createIdentity, identities, launch, nav, profile, screenshotsOnFailure, shot, visible } from './browser.ts';
import { qrVideo } from './images.ts';

const url = inject('workerUrl');
const browsers: Browser[] = [];

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await screenshotsOnFailure(ctx.task.name);
});

afterAll(async () => {
  for (const b of browsers) await b.close();
});

describe('scanning a QR code', () => {
  it("reads someone's identity from the camera and follows them", async () => {
    const first = await launch();
    browsers.push(first);
    const frank = await profile(first, url);
    await createIdentity(frank.page, 'Frank');
    const { account } = await identities(frank.page);
    // What Frank's Profile QR code holds: a link to his page in Effigy.
    const link = await frank.page
      .locator('.identity-card')
      .evaluate(() => `${location.origin}/#/id/${document.querySelector('code[data-identity]')?.getAttribute('data-identity')}`);

    const video = join(mkdtempSync(join(tmpdir(), 'effigy-e2e-qr-')), 'qr.y4m');
    writeFileSync(video, await qrVideo(link));
    const second = await launch({ camera: video });
    browsers.push(second);
    const erin = await profile(second, url);
    await createIdentity(erin.page, 'Erin');
    await nav(erin.page, 'People');
    await erin.page.getByRole('button', { name: 'Scan' }).click();
    const field = erin.page.getByLabel('Their identity');
    await expect.poll(() => field.inputValue(), { timeout: 20_000 }).toContain(account);
    await erin.page.locator('.found').getByRole('button', { name: 'Follow', exact: true }).click();
    await visible(erin.page.locator('.found').getByText('Following', { exact: true }));
    await visible(erin.page.locator('ul.people').getByRole('link', { name: 'Frank' }), 30_000);
    await shot(erin.page, '18-scanned-and-followed');

    // Muting: only Erin knows; Frank moves to the blocked-and-muted list.
    await erin.page.getByRole('link', { name: 'Frank' }).first().click();
    await visible(erin.page.getByRole('heading', { name: 'Frank' }));
    await erin.page.getByRole('button', { name: 'Mute' }).click();
    await visible(erin.page.getByText('Blocked or muted'));
    await nav(erin.page, 'People');
    await visible(erin.page.locator('section', { hasText: 'Blocked and muted' }).getByRole('link', { name: 'Frank' }));
    expect(erin.errors).toEqual([]);
  });
});
