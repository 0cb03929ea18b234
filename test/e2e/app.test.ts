/**
 * The app at a phone's width (390 px) and a desktop's (1280 px): an invite
 * link opened by someone new, who creates an account (confirming three of
 * the 24 words) and follows; a conversation with replies both ways; a
 * stranger's message request accepted; a delete behind its confirm. Then
 * every main screen: axe-core (0 serious or critical violations), a page
 * title, and a screenshot under test-results/screenshots/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  axeViolations,
  confirmWords,
  createIdentity,
  DESKTOP,
  follow,
  identities,
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

const url = inject('workerUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launch();
}, 60_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await screenshotsOnFailure(ctx.task.name);
});

afterAll(async () => {
  await browser?.close();
});

/** Axe findings and titles, per width and screen, for the table printed at the end. */
const report: { width: string; screen: string; title: string; serious: number }[] = [];

async function check(page: Page, width: string, screen: string): Promise<void> {
  await page.waitForFunction(() => !document.querySelector('.loading'));
  const violations = await axeViolations(page);
  const title = await page.title();
  report.push({ width, screen, title, serious: violations.length });
  await shot(page, `${width}-${screen}`);
  expect(violations, `${width} ${screen}`).toEqual([]);
  expect(title, `${width} ${screen}`).toMatch(/ · Effigy$|^Effigy$/);
  expect(await page.locator('body').innerText(), `${width} ${screen} says "synod"`).not.toMatch(/synod/i);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(wide, `${width} ${screen} is wider than the screen`).toBeLessThanOrEqual(1);
}

describe.each([
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const)('at %s width', (width, viewport) => {
  let ann: { page: Page; account: string };
  let ben: { page: Page; account: string };

  it('an invite link opens the person, a newcomer creates an account (three words checked) and follows', async () => {
    const a = await profile(browser, url, viewport);
    await createIdentity(a.page, 'Ann');
    ann = { page: a.page, ...(await identities(a.page)) };
    await postNote(ann.page, 'Ann says hello #welcome');
    // A notice belongs to its screen: "Posted." shows on Home, and is gone the moment she opens Me.
    const posted = ann.page.locator('.notice', { hasText: 'Posted.' });
    await visible(posted);
    await nav(ann.page, 'Me');
    expect(await posted.count(), 'a notice from Home still covers Me').toBe(0);
    const invite = (await ann.page.locator('.identity-card code[data-invite]').getAttribute('data-invite')) ?? '';
    expect(invite).toBe(`${url}/#/add/${ann.account}`);
    await visible(ann.page.getByRole('img', { name: 'QR code of your invite link' }));

    // Ben has never used Effigy: the link opens the start screen, which says who invited him.
    const b = await profile(browser, url, viewport);
    await b.page.goto(invite);
    await visible(b.page.getByText('You were invited to follow someone'));
    await check(b.page, width, 'start');
    await b.page.getByRole('button', { name: 'Create a new account' }).click();
    await b.page.getByLabel('Your name (optional)').fill('Ben');
    await b.page.getByRole('button', { name: 'Create my account' }).click();
    // The words stay hidden until asked for.
    await visible(b.page.getByRole('button', { name: 'Show my 24 words' }));
    expect(await b.page.getByTestId('mnemonic').count()).toBe(0);
    await check(b.page, width, 'words-hidden');
    await b.page.getByRole('button', { name: 'Show my 24 words' }).click();
    const words = await b.page.getByTestId('mnemonic').locator('.w').allTextContents();
    await visible(b.page.getByRole('button', { name: 'Copy words' }));
    await visible(b.page.getByRole('button', { name: 'Download as a file' }));
    await check(b.page, width, 'words');
    // A wrong word is caught; the right ones let him in.
    await b.page.getByRole('button', { name: 'I have written them down' }).click();
    const labels = await b.page.locator('form label').allTextContents();
    expect(labels).toHaveLength(3);
    for (const label of labels) await b.page.getByLabel(label, { exact: true }).fill('wrong');
    await b.page.getByRole('button', { name: 'Check' }).click();
    await visible(b.page.getByRole('alert').filter({ hasText: 'do not match' }));
    await check(b.page, width, 'words-check');
    await b.page.getByRole('button', { name: 'Show the words again' }).click();
    await confirmWords(b.page);
    expect(words).toHaveLength(24);

    // He lands on Ann's profile, with her name, and follows her.
    await visible(b.page.getByRole('heading', { name: 'Ann' }), 30_000);
    await visible(b.page.getByText('You opened Ann’s invite link'));
    await check(b.page, width, 'invite');
    await b.page.getByRole('button', { name: 'Follow', exact: true }).click();
    await visible(b.page.getByText('Following', { exact: true }));
    await visible(b.page.locator('article.entry', { hasText: 'Ann says hello' }), 45_000);
    ben = { page: b.page, ...(await identities(b.page)) };
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it('a conversation with replies both ways, a message request accepted, a delete behind its confirm', async () => {
    await follow(ann.page, ben.account);
    // Ann writes to Ben; he follows her, so it comes by her feed.
    await ann.page.goto(`/#/id/${ben.account}`);
    await ann.page.getByRole('link', { name: 'Message', exact: true }).click();
    await ann.page.getByLabel('Your message').fill('Welcome, Ben!');
    await ann.page.getByRole('button', { name: 'Send' }).click();
    await visible(ann.page.locator('.bubble.mine', { hasText: 'Welcome, Ben!' }));
    await nav(ben.page, 'Messages');
    await ben.page.locator('.thread-row', { hasText: 'Welcome, Ben!' }).getByRole('link').click({ timeout: 30_000 });
    await ben.page.getByLabel('Your message').fill('Thanks, Ann!');
    await ben.page.getByRole('button', { name: 'Send' }).click();
    await visible(ann.page.locator('.bubble.theirs', { hasText: 'Thanks, Ann!' }), 30_000);
    await check(ben.page, width, 'thread');

    // Cat, a stranger to Ann, writes to her: a request, with Cat's name.
    const c = await profile(browser, url, viewport);
    await createIdentity(c.page, 'Cat');
    await c.page.goto(`/#/thread/${ann.account}`);
    await c.page.getByLabel('Your message').fill('Hello Ann, this is Cat.');
    await c.page.getByRole('button', { name: 'Send' }).click();
    await visible(c.page.locator('.bubble.mine', { hasText: 'this is Cat' }), 30_000);
    await nav(ann.page, 'Messages');
    const request = ann.page.locator('section.requests .thread-row', { hasText: 'this is Cat' });
    await visible(request, 30_000);
    expect(await request.locator('.thread-names').textContent()).toBe('Cat');
    await check(ann.page, width, 'messages');
    await request.getByRole('link').click();
    await visible(ann.page.getByRole('region', { name: 'Message request' }));
    await check(ann.page, width, 'request');
    await ann.page.getByRole('button', { name: 'Accept' }).click();
    await ann.page.getByLabel('Your message').fill('Hi Cat!');
    await ann.page.getByRole('button', { name: 'Send' }).click();
    await visible(c.page.locator('.bubble.theirs', { hasText: 'Hi Cat!' }), 30_000);

    // A mention is a link to the person, named; a hashtag a link to its view.
    await nav(ann.page, 'Home');
    await ann.page.getByLabel('Write a public note').fill(`Say hi to ${ben.account} #friends`);
    await ann.page.getByRole('button', { name: 'Post note' }).click();
    const mention = ann.page.locator('article.entry', { hasText: 'Say hi to @Ben #friends' });
    await visible(mention);
    await mention.getByRole('link', { name: '@Ben' }).click();
    await visible(ann.page.getByRole('heading', { name: 'Ben' }));
    await nav(ann.page, 'Home');
    await mention.getByRole('link', { name: '#friends' }).click();
    await visible(ann.page.getByRole('heading', { name: '#friends' }));

    // Delete: a quiet button, then a confirm that says what happens.
    await postNote(ann.page, 'A note to delete');
    const card = ann.page.locator('article.entry', { hasText: 'A note to delete' });
    await card.getByRole('button', { name: 'Delete' }).click();
    await visible(card.getByRole('alertdialog'));
    await check(ann.page, width, 'delete-confirm');
    await card.getByRole('button', { name: 'Delete and rewrite' }).click();
    await card.waitFor({ state: 'detached' });
  });

  it('every main screen: no serious accessibility violation, a page title, within the width', async () => {
    const page = ann.page;
    for (const tab of ['Home', 'Compose', 'People', 'Messages', 'Me']) {
      await nav(page, tab);
      await check(page, width, tab.toLowerCase());
    }
    for (const screen of ['Devices', 'Servers', 'Network', 'Recovery words']) {
      await settings(page, screen);
      if (screen === 'Recovery words') await page.getByRole('button', { name: 'Show my 24 words' }).click();
      await check(page, width, screen.toLowerCase().replace(' ', '-'));
    }
    await nav(page, 'Me');
    await page.getByRole('link', { name: 'Edit profile' }).click();
    await visible(page.getByRole('heading', { name: 'Profile' }));
    await check(page, width, 'edit-profile');
    await settings(page, 'Devices');
    await page.getByRole('button', { name: 'Link a new device' }).click();
    await page.getByRole('button', { name: 'Show a code instead' }).click();
    await visible(page.getByTestId('pair-code'));
    await check(page, width, 'link-device');
    await page.goto(`/#/id/${ben.account}`);
    await visible(page.getByRole('heading', { name: 'Ben' }));
    await check(page, width, 'person');
    await page.goto('/#/tag/welcome');
    await visible(page.locator('article.entry', { hasText: 'Ann says hello' }));
    await check(page, width, 'tag');
    await page.locator('article.entry', { hasText: 'Ann says hello' }).locator('a.time').click();
    await visible(page.getByRole('heading', { name: 'Post' }));
    await check(page, width, 'post');
    if (width === 'desktop') {
      console.log(
        [
          '',
          '| width | screen | page title | axe serious+critical |',
          '|---|---|---|---|',
          ...report.map((r) => `| ${r.width} | ${r.screen} | ${r.title} | ${r.serious} |`),
        ].join('\n'),
      );
    }
  });
});
