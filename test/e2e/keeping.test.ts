/**
 * Friends keep copies (docs/protocol.md §13.11), in Chromium: Bob chooses to
 * keep a copy for Alice; her device asks, and both see it on the Network
 * screen. Alice then closes her browser, and Carol, who follows Alice,
 * gets Alice's post from Bob's device. Links are by consent (§13.9): Alice
 * and Bob follow each other, and so do Bob and Carol.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { createIdentity, follow, identities, nav, postNote, profile, settings, visible, useBrowser } from './browser.ts';

const url = inject('workerUrl');

interface Person {
  context: BrowserContext;
  page: Page;
  errors: string[];
  account: string;
  device: string;
}

const chromium = useBrowser();
const contexts = chromium.contexts;

async function person(name: string): Promise<Person> {
  const { context, page, errors } = await profile(chromium.browser, url);
  contexts.push(context);
  await createIdentity(page, name);
  return { context, page, errors, ...(await identities(page)) };
}

describe('copies kept by friends', () => {
  it("a friend keeps Alice's feed and passes it on while Alice is offline", { timeout: 240_000 }, async () => {
    const alice = await person('Alice');
    const bob = await person('Bob');
    await postNote(alice.page, 'Kept by a friend');
    await follow(bob.page, alice.account);
    await follow(alice.page, bob.account);
    await nav(bob.page, 'Home');
    await visible(bob.page.locator('article.entry', { hasText: 'Kept by a friend' }), 45_000);

    // Bob chooses Alice; her device is offered a lease and asks for one.
    await settings(bob.page, 'Network');
    const choice = bob.page.locator('[data-testid=keep-for] label', { hasText: 'Alice' });
    await visible(choice, 30_000);
    await choice.getByRole('checkbox').check();
    await visible(bob.page.locator(`[data-testid=kept] li[data-identity="${alice.device}"]`), 45_000);
    await settings(alice.page, 'Network');
    await visible(alice.page.locator(`[data-testid=keepers] li[data-identity="${bob.device}"]`), 45_000);

    // Alice closes her browser: Carol, who follows her (and is linked with Bob), gets her post from Bob's device.
    await alice.context.close();
    const carol = await person('Carol');
    await follow(carol.page, bob.account);
    await follow(bob.page, carol.account);
    await follow(carol.page, alice.account);
    await nav(carol.page, 'Home');
    await visible(carol.page.locator('article.entry', { hasText: 'Kept by a friend' }), 60_000);
    await settings(carol.page, 'Network');
    await visible(carol.page.locator(`[data-testid=syncs] li[data-identity="${alice.device}"][data-peer="${bob.device}"]`), 30_000);
    expect([...alice.errors, ...bob.errors, ...carol.errors]).toEqual([]);
  });
});
