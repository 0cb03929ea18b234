/**
 * Two people, two browser profiles: each creates an identity, they follow
 * each other, each posts a note and a photo (with a GPS location the app must
 * strip), and each sees the other's posts arrive over a WebRTC data channel.
 * Then: comments under their post, a conversation with replies both ways,
 * delete behind a confirm; images from a peer that are oversized or still
 * carry EXIF are not shown; a stranger's message is a request that is
 * accepted and answered; a second device of Alice's links by its 12-digit
 * code and gets her feed; and the app reloads offline from its service
 * worker, where a post made offline waits, marked, until it is published.
 */
import exifr from 'exifr';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashOf } from '../../src/protocol/index.ts';
import { metadataBlocks } from '../../web/src/lib/image.ts';
import {
  createIdentity,
  follow,
  identities,
  linkTransport,
  launch,
  screenshotsOnFailure,
  nav,
  peerRow,
  postNote,
  profile,
  settings,
  shot,
  swReady,
  visible,
} from './browser.ts';
import type { BrowserContext } from 'playwright-core';
import { drawJpeg, withGps } from './images.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const url = inject('workerUrl');
const tmp = mkdtempSync(join(tmpdir(), 'effigy-e2e-img-'));

interface Person {
  page: Page;
  words: string[];
  errors: string[];
  consoleErrors: string[];
  account: string;
  device: string;
  setOffline(offline: boolean): Promise<void>;
}

let browser: Browser;
const contexts: BrowserContext[] = [];
let alice: Person;
let bob: Person;

async function person(name: string): Promise<Person> {
  const { context, page, errors, consoleErrors } = await profile(browser, url);
  const words = await createIdentity(page, name, name === 'Alice' ? '01-words' : undefined);
  const ids = await identities(page);
  return { page, errors, consoleErrors, words, ...ids, setOffline: (o) => context.setOffline(o) };
}

async function postPhoto(page: Page, file: string, caption: string, screenshot?: string): Promise<void> {
  await nav(page, 'Compose');
  await page.getByLabel('Choose images').setInputFiles(file);
  const stripped = page.getByTestId('stripped');
  await visible(stripped);
  expect(await stripped.textContent()).toContain('Location and other photo metadata removed');
  await page.getByLabel('Caption').fill(caption);
  await page.getByLabel('Description for people who cannot see it (alt text)').fill(`${caption}, a gradient`);
  if (screenshot) await shot(page, screenshot);
  await page.getByRole('button', { name: 'Post image' }).click();
  await visible(page.getByText(/Posted\.|Saved\./));
}

/** The bytes of a displayed image, as the page holds them. */
async function imageBytes(page: Page, alt: string): Promise<Buffer> {
  const img = page.getByRole('img', { name: alt });
  await visible(img, 30_000);
  await page.waitForFunction((a) => [...document.images].some((i) => i.alt === a && i.complete && i.naturalWidth > 0), alt);
  const data = await img
    .first()
    .evaluate(async (el) => Array.from(new Uint8Array(await (await fetch((el as HTMLImageElement).src)).arrayBuffer())));
  return Buffer.from(data);
}

beforeAll(async () => {
  browser = await launch();
}, 60_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await screenshotsOnFailure(ctx.task.name);
});

afterAll(async () => {
  await browser?.close();
});

describe('two people in two browser profiles', () => {
  it('create identities, follow each other, and exchange notes and photos over WebRTC', async () => {
    alice = await person('Alice');
    bob = await person('Bob');
    await shot(alice.page, '02-profile');

    await follow(alice.page, bob.account);
    await follow(bob.page, alice.account);
    await shot(alice.page, '03-people');

    await postNote(alice.page, 'Hello from Alice');
    await postNote(bob.page, 'Hello from Bob');

    const aliceJpeg = withGps(await drawJpeg(alice.page, 200, 'Alice'), [48, 51, 30.24], [2, 17, 40.2]);
    const bobJpeg = withGps(await drawJpeg(bob.page, 20, 'Bob'), [51, 30, 26.0], [0, 7, 39.0]);
    expect((await exifr.gps(aliceJpeg))?.latitude).toBeCloseTo(48.8584, 3); // the fixture really has a location
    writeFileSync(join(tmp, 'alice.jpg'), aliceJpeg);
    writeFileSync(join(tmp, 'bob.jpg'), bobJpeg);
    await postPhoto(alice.page, join(tmp, 'alice.jpg'), 'Alice at the tower', '04-post-photo');
    await postPhoto(bob.page, join(tmp, 'bob.jpg'), 'Bob by the river');

    // Each sees the other's note and photo.
    await nav(alice.page, 'Home');
    await visible(alice.page.locator('article.entry', { hasText: 'Hello from Bob' }), 45_000);
    const fromBob = await imageBytes(alice.page, 'Bob by the river, a gradient');
    await nav(bob.page, 'Home');
    await visible(bob.page.locator('article.entry', { hasText: 'Hello from Alice' }), 45_000);
    const fromAlice = await imageBytes(bob.page, 'Alice at the tower, a gradient');
    await shot(alice.page, '05-timeline');

    // What travelled has no metadata at all.
    for (const bytes of [fromBob, fromAlice]) {
      expect(metadataBlocks(bytes)).toEqual([]);
      expect(await exifr.gps(bytes).catch(() => undefined)).toBeUndefined();
    }

    // ...and it travelled over a WebRTC data channel.
    expect(await linkTransport(alice.page, bob.device)).toBe('webrtc');
    expect(await linkTransport(bob.page, alice.device)).toBe('webrtc');
    // The entries were validated off the main thread, in the engine's validation Worker.
    expect(alice.page.workers().some((w) => w.url().includes('validation-worker'))).toBe(true);
    const synced = alice.page.locator(`[data-testid=syncs] li[data-identity="${bob.device}"][data-peer="${bob.device}"]`);
    await visible(synced);
    expect(await synced.getAttribute('data-transport')).toBe('webrtc');
    await shot(alice.page, '06-network');
    const log = await alice.page.locator('pre.log').textContent();
    if (process.env.EFFIGY_E2E_LOG) console.log(`[alice's log]\n${log}`);
    expect(log).not.toMatch(/WebRTC to .* failed/);

    // This Worker has no TURN relay: the app asked, was told so, and shows it as a state, not an error.
    const turn = alice.page.getByTestId('turn-status');
    expect(await turn.getAttribute('data-turn')).toBe('false');
    expect(await turn.textContent()).toContain('not available (this server has no TURN relay)');

    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
    expect(alice.consoleErrors).toEqual([]);
    expect(bob.consoleErrors).toEqual([]);
  });

  it('comments under their post, tags, albums, a conversation both ways and a deletion behind a confirm reach the other side', async () => {
    // Bob comments on Alice's note; Alice tags her photo.
    await nav(bob.page, 'Home');
    const note = bob.page.locator('article.entry', { hasText: 'Hello from Alice' });
    await note.getByRole('button', { name: 'Comment' }).click();
    await note.getByLabel('Your comment').fill('Nice to see you here, Alice!');
    await note.getByRole('button', { name: 'Post comment' }).click();
    await visible(bob.page.getByText('Comment posted.'));
    await nav(alice.page, 'Home');
    const photo = alice.page.locator('article.entry', { hasText: 'Alice at the tower' });
    await photo.getByRole('button', { name: 'Tag' }).click();
    await photo.getByLabel('Tag (one word)').fill('#sunset');
    await photo.getByRole('button', { name: 'Add tag' }).click();
    await visible(alice.page.getByText('Tag added.'));
    // The comment sits under Alice's note, counted, not as a card of its own.
    const mine = alice.page.locator('ol.entries > li > article.entry', { hasText: 'Hello from Alice' });
    await visible(mine.getByRole('button', { name: 'Comments (1)' }), 30_000);
    expect(await alice.page.locator('ol.entries > li > article.entry[data-type=comment]').count()).toBe(0);
    await mine.getByRole('button', { name: 'Comments (1)' }).click();
    await visible(mine.locator('ol.comments', { hasText: 'Nice to see you here, Alice!' }));
    await shot(alice.page, '14-comments-under-post');
    // The tag is a link to everything tagged so.
    await photo.getByRole('link', { name: '#sunset' }).click();
    await visible(alice.page.getByRole('heading', { name: '#sunset' }));
    await visible(alice.page.locator('article.entry', { hasText: 'Alice at the tower' }));

    // Alice's profile: about and an avatar (stripped like any photo); Bob sees them.
    await nav(alice.page, 'Me');
    await alice.page.getByRole('link', { name: 'Edit profile' }).click();
    await alice.page.getByLabel('About').fill('Climbs towers, takes photos.');
    await alice.page.getByLabel('Avatar image').setInputFiles(join(tmp, 'alice.jpg'));
    await visible(alice.page.getByText('Location and other photo metadata removed.'));
    await alice.page.getByRole('button', { name: 'Save profile' }).click();
    await visible(alice.page.getByText('Profile saved.'));
    await nav(bob.page, 'Home');
    await visible(bob.page.locator('article.entry', { hasText: 'Hello from Alice' }).locator('img.avatar'), 30_000);

    // An album of two photos.
    writeFileSync(join(tmp, 'one.jpg'), await drawJpeg(alice.page, 120, 'One'));
    writeFileSync(join(tmp, 'two.jpg'), withGps(await drawJpeg(alice.page, 280, 'Two'), [1, 2, 3], [4, 5, 6]));
    await nav(alice.page, 'Compose');
    await alice.page.getByLabel('Choose images').setInputFiles([join(tmp, 'one.jpg'), join(tmp, 'two.jpg')]);
    await expect.poll(() => alice.page.getByTestId('stripped').count()).toBe(2);
    await alice.page.getByLabel('Album name').fill('Holiday album');
    await alice.page.getByRole('button', { name: 'Post album of 2' }).click();
    await visible(alice.page.getByText(/Posted\.|Saved\./));
    await nav(bob.page, 'Home');
    const album = bob.page.locator('article.entry[data-type=collection]', { hasText: 'Holiday album' });
    await visible(album, 30_000);
    await expect.poll(() => album.locator('figure.album img').count(), { timeout: 30_000 }).toBe(2);

    // A conversation: Alice writes to Bob from his page, Bob answers in the same thread.
    await alice.page.goto(`/#/id/${bob.account}`);
    await alice.page.getByRole('link', { name: 'Message', exact: true }).click();
    await alice.page.getByLabel('Your message').fill('Only for you, Bob');
    await alice.page.getByRole('button', { name: 'Send' }).click();
    const sent = alice.page.locator('.bubble.mine', { hasText: 'Only for you, Bob' });
    await visible(sent);
    expect(await sent.locator('.to-line').textContent()).toContain('To Bob');
    await nav(bob.page, 'Messages');
    const row = bob.page.locator('.thread-row', { hasText: 'Only for you, Bob' });
    await visible(row, 30_000);
    await visible(bob.page.getByRole('navigation', { name: 'Main' }).getByText('1', { exact: true }));
    await row.getByRole('link').click();
    const got = bob.page.locator('.bubble.theirs', { hasText: 'Only for you, Bob' });
    await visible(got);
    expect(await got.locator('.to-line').textContent()).toContain('To you');
    await bob.page.getByLabel('Your message').fill('Thanks, Alice. See you at noon.');
    await bob.page.getByRole('button', { name: 'Send' }).click();
    await visible(bob.page.locator('.bubble.mine', { hasText: 'See you at noon' }));
    await shot(bob.page, '15-conversation');
    await visible(alice.page.locator('.bubble.theirs', { hasText: 'See you at noon' }), 30_000);
    expect(await alice.page.locator('.bubble').count()).toBe(2);

    // Alice deletes a note: warned that later entries are rewritten; it disappears on both sides.
    await postNote(alice.page, 'Oops, wrong note');
    await postNote(alice.page, 'A later note');
    await nav(bob.page, 'Home');
    await visible(bob.page.locator('article.entry', { hasText: 'Oops, wrong note' }), 30_000);
    const oops = alice.page.locator('article.entry', { hasText: 'Oops, wrong note' });
    await oops.getByRole('button', { name: 'Delete' }).click();
    const warning = oops.getByRole('alertdialog');
    await visible(warning);
    expect(await warning.textContent()).toContain('Deleting rewrites your feed');
    expect(await warning.textContent()).toContain('1 entry you posted from this device after this one will be signed again');
    await shot(alice.page, '16-delete-warning');
    // Cancel keeps it; confirming deletes it.
    await warning.getByRole('button', { name: 'Cancel' }).click();
    await visible(oops.getByRole('button', { name: 'Delete' }));
    await oops.getByRole('button', { name: 'Delete' }).click();
    await oops.getByRole('alertdialog').getByRole('button', { name: 'Delete and rewrite' }).click();
    await oops.waitFor({ state: 'detached' });
    await visible(alice.page.locator('article.entry', { hasText: 'A later note' }));
    await bob.page.locator('article.entry', { hasText: 'Oops, wrong note' }).waitFor({ state: 'detached', timeout: 30_000 });
    await visible(bob.page.locator('article.entry', { hasText: 'A later note' }));

    // Alice's page as Bob sees it: her posts, whom she follows, and that she follows him.
    await bob.page.goto(`/#/id/${alice.account}`);
    await visible(bob.page.getByRole('heading', { name: 'Alice' }));
    await visible(bob.page.getByText('Follows you'));
    await bob.page.getByRole('button', { name: /^Follows/ }).click();
    await visible(bob.page.locator('ul.people').getByRole('link', { name: 'Bob' }));
    await shot(bob.page, '17-identity-page');
  });

  it("refuses to show a peer's image that is oversized or still carries EXIF", async () => {
    const raw = withGps(await drawJpeg(bob.page, 300, 'GPS'), [40, 41, 21.0], [74, 2, 40.0]);
    const fake = hashOf(new TextEncoder().encode('a blob nobody has'));
    // Bob's engine, used directly from the console: the app itself would have stripped this.
    await bob.page.evaluate(
      async ([b64, hash]) => {
        type Engine = { addBlob(b: Uint8Array): Promise<unknown>; publish(p: unknown): Promise<unknown> };
        const effigy = (globalThis as unknown as { effigy: Engine }).effigy;
        const blob = await effigy.addBlob(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
        await effigy.publish({ type: 'image', blob, mime: 'image/jpeg', caption: 'Raw photo with location' });
        await effigy.publish({ type: 'image', blob: { hash, size: 20 * 1024 * 1024 }, mime: 'image/jpeg', caption: 'A huge image' });
      },
      [raw.toString('base64'), fake] as const,
    );
    await nav(alice.page, 'Home');
    const withExif = alice.page.locator('article.entry', { hasText: 'Raw photo with location' });
    await visible(withExif.locator('.image-refused'), 45_000);
    expect(await withExif.locator('.image-refused').textContent()).toContain('Hidden: this image still carries its location (GPS)');
    expect(await withExif.locator('img').count()).toBe(0);
    const huge = alice.page.locator('article.entry', { hasText: 'A huge image' });
    await visible(huge.locator('.image-refused'));
    expect(await huge.locator('.image-refused').textContent()).toContain('Not downloaded: this image is 20.0 MB');
    await huge.scrollIntoViewIfNeeded();
    await shot(alice.page, '07-refused-images');
    // Nothing else was lost.
    await visible(alice.page.locator('article.entry', { hasText: 'Hello from Bob' }));
  });

  it("shows a stranger's message as a request, with their name; accepted, it becomes a conversation", async () => {
    const { context, page } = await profile(browser, url);
    contexts.push(context);
    await createIdentity(page, 'Carol');
    await nav(page, 'Messages');
    await page.getByRole('button', { name: 'New message' }).click();
    // The link Alice shares (her invite link, from Me).
    await page.getByLabel('Someone else (link or identity)').fill(`${url}/#/add/${alice.account}`);
    await page.getByRole('button', { name: 'Write' }).click();
    await page.getByLabel('Your message').fill('Hi Alice, we met at the market. Carol');
    await page.getByRole('button', { name: 'Send' }).click();
    await visible(page.locator('.bubble.mine', { hasText: 'we met at the market' }), 30_000);

    await nav(alice.page, 'Messages');
    const request = alice.page.locator('section.requests .thread-row', { hasText: 'we met at the market' });
    await visible(request, 30_000);
    // Her name, from the card her message carried: Alice replicates nothing of Carol's.
    expect(await request.locator('.thread-names').textContent()).toBe('Carol');
    await shot(alice.page, '08-message-request');
    await request.getByRole('link').click();
    await visible(alice.page.getByRole('heading', { name: 'Carol' }));
    const bar = alice.page.getByRole('region', { name: 'Message request' });
    await visible(bar);
    expect(await alice.page.getByLabel('Your message').count()).toBe(0);
    await bar.getByRole('button', { name: 'Accept' }).click();
    await alice.page.getByLabel('Your message').fill('Hello Carol! Follow me: my invite link is under Me.');
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await visible(alice.page.locator('.bubble.mine', { hasText: 'Hello Carol!' }));
    await nav(alice.page, 'Messages');
    await visible(alice.page.locator('.thread-row', { hasText: 'Hello Carol!' }));
    expect(await alice.page.locator('section.requests').count()).toBe(0);

    // Carol gets the answer in her thread (it came through the dropbox: she does not follow Alice).
    await nav(page, 'Messages');
    await visible(page.locator('.thread-row', { hasText: 'Hello Carol!' }), 30_000);
    await page.locator('.thread-row', { hasText: 'Hello Carol!' }).getByRole('link').click();
    await expect.poll(() => page.locator('.bubble').count()).toBe(2);
  });

  it("links a second device by its 12-digit code, which then gets the first device's feed", async () => {
    const { context, page, errors } = await profile(browser, url);
    contexts.push(context);
    await page.goto('/');
    await page.getByRole('button', { name: 'I have an account' }).click();
    await page.getByRole('button', { name: 'Link this device' }).click();
    await page.getByLabel('Name for this device').fill('Laptop');
    await page.getByRole('button', { name: 'Next' }).click();
    const shown = page.getByTestId('pair-code');
    await visible(shown);
    const code = (await shown.getAttribute('data-code')) ?? '';
    expect(code).toMatch(/^\d{12}$/);
    expect(await shown.textContent()).toBe(code.replace(/(\d{4})(?=\d)/g, '$1 '));
    await visible(page.getByRole('img', { name: 'Pairing QR code' }));
    await shot(page, '09-pairing-code');

    await settings(alice.page, 'Devices');
    await alice.page.getByRole('button', { name: 'Link a new device' }).click();
    await alice.page.getByLabel('Or type the 12-digit code the new device shows').fill(code.replace(/(\d{4})(?=\d)/g, '$1 '));
    await alice.page.getByRole('button', { name: 'Connect' }).click();
    await visible(alice.page.locator('.device', { hasText: 'Laptop' }), 30_000);

    // The new device becomes a member by itself and syncs the first device's feed.
    await visible(page.getByRole('heading', { name: 'Home' }), 45_000);
    await visible(page.locator('article.entry', { hasText: 'Hello from Alice' }), 45_000);
    await settings(page, 'Devices');
    await visible(page.locator('.device', { hasText: 'Laptop' }));
    await shot(page, '10-devices');
    // The Network screen says why the two are linked.
    const row = await peerRow(alice.page, (await identities(page)).device);
    await expect.poll(() => row.getAttribute('data-reason'), { timeout: 30_000 }).toBe('device');
    expect(await row.getByTestId('why').textContent()).toBe('your device');

    // Alice renames it, then removes it (say it was lost): it learns so, and stops acting for the account.
    await settings(alice.page, 'Devices');
    const laptop = alice.page.locator('.device', { hasText: 'Laptop' });
    await laptop.getByRole('button', { name: 'Rename' }).click();
    await laptop.getByLabel('New name').fill('Old laptop');
    await laptop.getByRole('button', { name: 'Save name' }).click();
    const renamed = alice.page.locator('.device', { hasText: 'Old laptop' });
    await visible(renamed);
    await renamed.getByRole('button', { name: 'Remove' }).click();
    await renamed.getByRole('button', { name: 'Remove this device' }).click();
    await visible(renamed.getByText(/Removed/));
    await visible(page.getByRole('heading', { name: 'This device was removed' }), 30_000);
    expect(errors).toEqual([]);
  });

  it('restores the account from its 24 words on another browser, which re-syncs the feeds', async () => {
    const { context, page, errors } = await profile(browser, url);
    contexts.push(context);
    await page.goto('/');
    await page.getByRole('button', { name: 'I have an account' }).click();
    await page.getByRole('button', { name: 'Restore from 24 words' }).click();
    await page.getByLabel('Recovery words').fill(alice.words.join(' '));
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await visible(page.getByRole('heading', { name: 'Home' }), 45_000);
    await visible(page.locator('article.entry', { hasText: 'Hello from Alice' }), 45_000);
    // Follows belong to each device: this one offers to follow whom the others follow.
    await nav(page, 'People');
    await page.getByRole('button', { name: 'Follow them here too' }).click();
    await nav(page, 'Home');
    await visible(page.locator('article.entry', { hasText: 'Hello from Bob' }), 45_000);
    const restored = await identities(page);
    expect(restored.account).toBe(alice.account);
    expect(restored.device).not.toBe(alice.device);
    expect(errors).toEqual([]);
  });

  it('reloads offline from the service worker; a post made offline is marked as waiting until it is published', async () => {
    const page = alice.page;
    await swReady(page);
    await alice.setOffline(true);
    await page.reload();
    await nav(page, 'Home');
    await visible(page.locator('article.entry', { hasText: 'Hello from Bob' }));
    await expect.poll(() => page.locator('.pill').getAttribute('data-state'), { timeout: 15_000 }).toBe('offline');
    expect(await page.locator('.pill').textContent()).toBe('Offline');
    await page.getByLabel('Write a public note').fill('Written while offline');
    await page.getByRole('button', { name: 'Post note' }).click();
    await visible(page.getByText('Saved. It will be published when the network returns.'));
    const offline = page.locator('article.entry', { hasText: 'Written while offline' });
    await visible(offline.getByText('Waiting to publish'));
    // The notice stays clear of the post just made.
    const [card, notice] = [await offline.boundingBox(), await page.locator('.notice').first().boundingBox()];
    expect(card && notice && (notice.y >= card.y + card.height || notice.y + notice.height <= card.y)).toBe(true);
    await shot(page, '11-offline');
    await alice.setOffline(false);
    await offline.getByText('Waiting to publish').waitFor({ state: 'detached', timeout: 60_000 });
    await nav(bob.page, 'Home');
    await visible(bob.page.locator('article.entry', { hasText: 'Written while offline' }), 60_000);
    expect(alice.errors).toEqual([]);
  });
});
