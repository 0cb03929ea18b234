/**
 * Recovery through friends in Chromium, one browser profile per person: Ada
 * chooses five friends (three needed) under Me → Recovery friends; each
 * friend's app keeps its share. Every device of Ada's is lost (her profile is
 * closed). On a fresh profile she asks all five; each friend's app shows her
 * request, and a friend releases only with the code her screen shows for
 * them (a wrong one sends nothing). After two releases the account has not
 * come back; after the third it has, with her old device's posts and her
 * follows, and each release is in that friend's log. Screenshots of every
 * new screen at 390 and 1280 px, axe on each.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import {
  axeViolations,
  DESKTOP,
  follow,
  nav,
  PHONE,
  postNote,
  profile,
  settings,
  shot,
  visible,
  newAccount,
  useBrowser,
} from './browser.ts';

const url = inject('workerUrl');
const chromium = useBrowser();
const contexts = chromium.contexts;

interface Person {
  name: string;
  context: BrowserContext;
  page: Page;
  account: string;
  device: string;
}

const person = (name: string): Promise<Person> => newAccount(chromium.browser, url, name, contexts);

/** A screenshot at phone and desktop width, and no serious axe violation. */
async function look(page: Page, name: string): Promise<void> {
  await page.setViewportSize(PHONE);
  await shot(page, `${name}-390`);
  expect(await axeViolations(page)).toEqual([]);
  await page.setViewportSize(DESKTOP);
  await shot(page, `${name}-1280`);
  await page.setViewportSize(PHONE);
}

const engine = <T>(page: Page, f: string): Promise<T> => page.evaluate(`(async (p) => (${f}))(globalThis.effigy)`) as Promise<T>;

/** The friend answers Ada's request with `code`, through Me → Recovery friends. */
async function answer(friend: Person, code: string, screenshot?: string): Promise<void> {
  await visible(friend.page.getByTestId('recovery-notice'), 30_000);
  await friend.page.getByTestId('recovery-notice').getByRole('link', { name: 'Answer' }).click();
  const card = friend.page.locator('li.recovery-request');
  await visible(card);
  if (screenshot) await look(friend.page, screenshot);
  await card.getByLabel('The code they read to you').fill(code);
  await card.getByRole('button', { name: 'Release my share' }).click();
  await visible(friend.page.getByTestId('release-log'), 20_000);
}

describe('recovery through friends', () => {
  it('five friends, three confirm: the account comes back on a fresh profile with its feed and follows; two do not', async () => {
    const ada = await person('Ada');
    const friends: Person[] = [];
    for (const name of ['Bo', 'Cy', 'Di', 'Ed', 'Flo']) friends.push(await person(name));
    for (const f of friends) {
      await follow(f.page, ada.account);
      await follow(ada.page, f.account);
    }
    await postNote(ada.page, 'Ada wrote this before the loss');
    for (const f of friends) {
      await expect.poll(() => engine<boolean>(ada.page, `p.synodState('${f.account}') !== undefined`), { timeout: 30_000 }).toBe(true);
    }

    // Ada chooses her five friends, three needed.
    await settings(ada.page, 'Recovery friends');
    await look(ada.page, '70-recovery-none');
    await ada.page.getByRole('button', { name: 'Choose friends' }).click();
    for (const f of friends) await ada.page.locator('.choose-friends label', { hasText: f.name }).getByRole('checkbox').check();
    await ada.page.getByLabel('Friends needed to recover').selectOption('3');
    await visible(ada.page.getByText('Any 3 of these 5 can give your account back together.'));
    await look(ada.page, '71-recovery-choose');
    await ada.page.getByRole('button', { name: 'Send shares' }).click();
    await visible(ada.page.getByTestId('recovery-set'), 30_000);
    expect(await ada.page.getByTestId('recovery-set').textContent()).toContain('Any 3 of these 5 friends');
    await look(ada.page, '72-recovery-chosen');

    // Each friend's app keeps its share, shown under their Recovery friends.
    for (const f of friends)
      await expect.poll(() => engine<number>(f.page, 'p.recovery.held().then((h) => h.length)'), { timeout: 30_000 }).toBe(1);
    await settings(friends[4]!.page, 'Recovery friends');
    await visible(friends[4]!.page.getByTestId('held').getByText('Ada'));
    await look(friends[4]!.page, '73-recovery-kept');

    // Every device of Ada's is lost.
    await ada.context.close();

    // A fresh profile asks all five.
    const { context, page } = await profile(chromium.browser, url);
    contexts.push(context);
    await page.goto('/');
    await page.getByRole('button', { name: 'I have an account' }).click();
    await page.getByRole('button', { name: 'Recover through friends' }).click();
    await page.getByLabel('Your name, as your friends know you').fill('Ada');
    for (let i = 0; i < 5; i++) {
      if (i >= 3) await page.getByRole('button', { name: 'Add a friend' }).click();
      await page.getByLabel(`Friend ${i + 1}`, { exact: true }).fill(`${url}/#/add/${friends[i]!.account}`);
    }
    await look(page, '74-recover-ask');
    const asked = Date.now();
    await page.getByRole('button', { name: 'Ask them' }).click();
    await visible(page.getByTestId('recovery-codes'), 60_000);
    const codes = new Map<string, string>();
    for (const f of friends) {
      const row = page.locator(`[data-testid=recovery-codes] li[data-friend="${f.account}"]`);
      codes.set(f.account, (await row.getAttribute('data-code')) ?? '');
    }
    expect([...codes.values()].every((c) => /^\d{6}$/.test(c))).toBe(true);
    await look(page, '75-recover-waiting');

    // Bo first types a wrong code: nothing is sent, nothing logged.
    const [bo, cy, di] = friends as [Person, Person, Person];
    await nav(bo.page, 'Home');
    await visible(bo.page.getByTestId('recovery-notice'), 30_000);
    await look(bo.page, '78-recovery-notice');
    await bo.page.getByTestId('recovery-notice').getByRole('link', { name: 'Answer' }).click();
    const card = bo.page.locator('li.recovery-request');
    await card.getByLabel('The code they read to you').fill(codes.get(bo.account) === '000000' ? '111111' : '000000');
    await card.getByRole('button', { name: 'Release my share' }).click();
    await visible(card.getByRole('alert').filter({ hasText: 'not the code on their screen' }));
    expect(await engine<number>(bo.page, 'p.recovery.log().then((l) => l.length)')).toBe(0);
    await look(bo.page, '76-recovery-request');

    // Two friends confirm: two shares arrive, the account does not come back.
    await card.getByLabel('The code they read to you').fill(codes.get(bo.account)!);
    await card.getByRole('button', { name: 'Release my share' }).click();
    await visible(bo.page.getByTestId('release-log'), 20_000);
    await look(bo.page, '77-recovery-log');
    await answer(cy, codes.get(cy.account)!);
    await visible(page.locator('[data-testid=recovery-progress][data-released="2"]'), 30_000);
    expect(await page.getByTestId('recovery-progress').textContent()).toBe('2 of the 3 friends needed have answered.');
    expect(await page.locator('nav.tabs').count()).toBe(0);
    expect(await engine<string | null>(page, 'p.synodIdentity')).toBeNull();

    // The third: the account is back, with its posts and follows.
    await answer(di, codes.get(di.account)!);
    await visible(page.getByRole('heading', { name: 'Home', level: 2 }), 60_000);
    const restored = Date.now();
    expect(await engine<string | null>(page, 'p.synodIdentity')).toBe(ada.account);
    await visible(page.locator('article.entry', { hasText: 'Ada wrote this before the loss' }), 60_000);
    await nav(page, 'People');
    for (const f of friends) await visible(page.locator('.people').getByText(f.name, { exact: true }).first(), 30_000);
    for (const f of [bo, cy, di]) {
      expect(await engine<string[]>(f.page, 'p.recovery.log().then((l) => l.map((r) => r.record.to))')).toEqual([
        await engine<string>(page, 'p.identity'),
      ]);
    }
    for (const f of friends.slice(3)) expect(await engine<number>(f.page, 'p.recovery.log().then((l) => l.length)')).toBe(0);
    console.log(
      `\n| recovery in Chromium, friends answering through the UI | s |\n|---|---:|\n| "Ask them" → account restored (Home) | ${((restored - asked) / 1000).toFixed(1)} |`,
    );
  });
});
