/**
 * Bad input gets a clear message and loses nothing: a malformed recovery
 * phrase, an invalid identity, a server that does not answer, a file that is
 * not an image. (Images from peers that are oversized or carry EXIF are in
 * people.test.ts, where there is a peer.)
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createIdentity, launch, screenshotsOnFailure, nav, postNote, profile, settings, shot, visible } from './browser.ts';

const url = inject('workerUrl');

/** A loopback port nothing listens on. */
const closedPort = (): Promise<number> =>
  new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
let browser: Browser;
let page: Page;
let errors: string[];

/** The alert's text once it says `expected` (checks run asynchronously: the previous alert may still show for a moment). */
const alertText = async (p: Page, expected: string): Promise<string> => {
  const alert = p.locator('p.error[role=alert]');
  await visible(alert);
  await alert
    .filter({ hasText: expected })
    .first()
    .waitFor({ timeout: 10_000 })
    .catch(() => undefined);
  return (await alert.first().textContent()) ?? '';
};

beforeAll(async () => {
  browser = await launch();
  ({ page, errors } = await profile(browser, url));
}, 60_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await screenshotsOnFailure(ctx.task.name);
});

afterAll(async () => {
  await browser?.close();
});

describe('bad input', () => {
  it('explains what is wrong with a recovery phrase, and changes nothing', async () => {
    await page.goto('/');
    await page.getByRole('button', { name: 'I have an account' }).click();
    await page.getByRole('button', { name: 'Restore from 24 words' }).click();
    const words = page.getByLabel('Recovery words');
    const restore = page.getByRole('button', { name: 'Restore', exact: true });

    await words.fill('abandon ability able');
    await restore.click();
    expect(await alertText(page, 'a recovery phrase has 24 words, this has 3')).toContain('a recovery phrase has 24 words, this has 3');

    await words.fill(`${'abandon '.repeat(23)}notaword`);
    await restore.click();
    expect(await alertText(page, 'word 24 ("notaword") is not in the BIP39 English list')).toContain(
      'word 24 ("notaword") is not in the BIP39 English list',
    );

    await words.fill('abandon '.repeat(24));
    await restore.click();
    expect(await alertText(page, 'checksum')).toContain('checksum');
    await shot(page, '01-restore-error');

    // Still a fresh browser: no account was half-made.
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'Back' }).click();
    await visible(page.getByRole('button', { name: 'Create a new account' }));
  });

  it('refuses an invalid identity, an unreachable server and a non-image, keeping what was there', async () => {
    await createIdentity(page, 'Dana');
    await postNote(page, 'Dana was here');

    await nav(page, 'People');
    const field = page.getByLabel('Their link or identity');
    await field.fill('@not-an-identity');
    // One sentence, said once.
    expect(await alertText(page, 'That is not a valid identity')).toBe(
      'That is not a valid identity: it is "@" followed by 43 letters, digits, "-" or "_" (this has 16 characters).',
    );
    await field.fill('@AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(await alertText(page, 'That looks like an identity')).toBe(
      'That looks like an identity, but it is not a usable key. Check that it was copied whole.',
    );
    expect(await page.getByRole('button', { name: 'Follow', exact: true }).count()).toBe(0);
    await shot(page, '12-bad-identity');

    await settings(page, 'Servers');
    const signalling = page.locator('section.card', { hasText: 'Signalling servers' });
    expect(await signalling.locator('ul.servers li').count()).toBe(1);
    // Not a host name: refused as typed, never turned into an address and dialed.
    const dialed: string[] = [];
    page.on('websocket', (ws) => dialed.push(ws.url()));
    await page.getByLabel('Add a signalling server').fill('not a url');
    await signalling.getByRole('button', { name: 'Add' }).click();
    expect(await alertText(page, 'is not a server address')).toBe(
      '"not a url" is not a server address: a server is a name like effigy.example.org.',
    );
    expect(dialed.filter((u) => u.includes('not'))).toEqual([]);
    await page.getByLabel('Add a signalling server').fill('ftp://example.org');
    await signalling.getByRole('button', { name: 'Add' }).click();
    expect(await alertText(page, 'A signalling server is a wss:// address')).toContain('A signalling server is a wss:// address');
    await page.getByLabel('Add a signalling server').fill(`ws://127.0.0.1:${await closedPort()}/room/nowhere`);
    await signalling.getByRole('button', { name: 'Add' }).click();
    await visible(signalling.getByText(/could not connect|no answer/i), 15_000);
    expect(await signalling.locator('p.error').textContent()).toContain('Nothing was changed');
    expect(await signalling.locator('ul.servers li').count()).toBe(1);
    await shot(page, '13-server-unreachable');

    const dir = mkdtempSync(join(tmpdir(), 'effigy-e2e-bad-'));
    writeFileSync(join(dir, 'notes.txt'), 'just text, not an image');
    await nav(page, 'Compose');
    await page.getByLabel('Choose images').setInputFiles(join(dir, 'notes.txt'));
    expect(await alertText(page, 'is not an image this app can read')).toContain('is not an image this app can read');
    expect(await page.getByRole('button', { name: 'Post image' }).isDisabled()).toBe(true);

    await nav(page, 'Home');
    await visible(page.locator('article.entry', { hasText: 'Dana was here' }));
    expect(errors).toEqual([]);
  });

  it('says there is no camera, and leaves no scanner behind', async () => {
    // A browser with no camera: getUserMedia fails the way it does on such a machine.
    await page.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
    });
    await page.reload();
    await nav(page, 'People');
    await page.getByRole('button', { name: 'Scan' }).click();
    expect(await alertText(page, 'No camera here')).toContain('No camera here (Requested device not found)');
    expect(await page.getByRole('button', { name: 'Stop scanning' }).count()).toBe(0);
    expect(await page.locator('.scanner').count()).toBe(0);
    await visible(page.getByLabel('Their link or identity'));
  });

  it("labels every control, keeps each screen within a phone's width, and focuses each screen's heading", async () => {
    for (const screen of ['Compose', 'People', 'Messages', 'Me', 'Devices', 'Servers', 'Network', 'Recovery words', 'Home']) {
      if (['Devices', 'Servers', 'Network', 'Recovery words'].includes(screen)) await settings(page, screen);
      else await nav(page, screen);
      await page.waitForFunction(() => document.activeElement?.matches('h2.screen-title'), null, { timeout: 2000 }).catch(() => undefined);
      const problems = await page.evaluate(() => {
        const out: string[] = [];
        for (const el of document.querySelectorAll<HTMLInputElement>('input, textarea, select')) {
          if (el.type === 'hidden') continue;
          const named = (el.labels?.length ?? 0) > 0 || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
          if (!named) out.push(`unlabelled ${el.tagName.toLowerCase()}`);
        }
        for (const el of document.querySelectorAll<HTMLElement>('button, a[href]')) {
          if (!(el.textContent?.trim() || el.getAttribute('aria-label'))) out.push(`nameless ${el.tagName.toLowerCase()}`);
        }
        if (document.documentElement.scrollWidth > window.innerWidth + 1)
          out.push(`wider than the screen: ${document.documentElement.scrollWidth}px`);
        if (!document.activeElement?.matches('h2.screen-title')) out.push(`focus is on ${document.activeElement?.tagName}`);
        return out;
      });
      expect(problems, screen).toEqual([]);
    }
    // Small and large phones: nothing wider than the screen, the tab bar whole.
    for (const width of [360, 430]) {
      await page.setViewportSize({ width, height: 760 });
      for (const screen of ['Home', 'Compose', 'People', 'Messages', 'Me']) {
        await nav(page, screen);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(wide, `${screen} at ${width} px`).toBeLessThanOrEqual(1);
        const tabs = await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('link')
          .evaluateAll((links) =>
            links.map((l) => {
              const r = l.getBoundingClientRect();
              return r.left >= 0 && r.right <= window.innerWidth + 1 && r.bottom <= window.innerHeight + 1 && r.height >= 44;
            }),
          );
        expect(tabs, `tabs at ${width} px`).toEqual([true, true, true, true, true]);
      }
    }
    await page.setViewportSize({ width: 390, height: 844 });
  });
});
