/**
 * Links by consent in Chromium, three profiles. Alice and Bob follow each
 * other; Carol, a stranger, leaves Alice a message through the dropbox. Alice
 * gets the message, links with Bob (the Network screen says why: "you follow
 * · follows you"), and Carol never gets a direct link to her: no link on
 * either Network screen, and Carol's page never even opens an
 * RTCPeerConnection. Positive control: once Alice and Carol follow each
 * other, they link. Then "Hide my address" on a server with no TURN relay:
 * the link goes through the room relay and the hiding browser opens no
 * RTCPeerConnection at all (until she turns it off again: then WebRTC).
 * Screenshots of the Network screen and its privacy settings at 390
 * and 1280 px.
 */
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import {
  createIdentity,
  follow,
  identities,
  nav,
  pcCount,
  peerRow,
  profile,
  RECORD_PCS,
  setPrivacy,
  settings,
  shot,
  visible,
  useBrowser,
} from './browser.ts';

const url = inject('workerUrl');
const chromium = useBrowser();
const contexts = chromium.contexts;

interface Person {
  page: Page;
  account: string;
  device: string;
}

async function person(name: string): Promise<Person> {
  const { context, page } = await profile(chromium.browser, url);
  contexts.push(context);
  await context.addInitScript(RECORD_PCS);
  await createIdentity(page, name);
  return { page, ...(await identities(page)) };
}

/** The identities of the peers the Network screen lists. */
async function linkedOn(page: Page): Promise<string[]> {
  await settings(page, 'Network');
  return page.locator('[data-testid=peers] li').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-identity') ?? ''));
}

/** Screenshots without the passing notices over them. */
async function quiet(page: Page): Promise<void> {
  await expect.poll(() => page.locator('.notices .notice').count(), { timeout: 15_000 }).toBe(0);
}

async function why(page: Page, identity: string, reason: string): Promise<string> {
  const row = await peerRow(page, identity);
  await expect.poll(() => row.getAttribute('data-reason'), { timeout: 30_000 }).toBe(reason);
  return (await row.getByTestId('why').textContent()) ?? '';
}

describe('links by consent, three browser profiles', () => {
  it('a stranger who messages you never gets a direct link to you; the Network screen says why each link exists', async () => {
    const alice = await person('Alice');
    const bob = await person('Bob');
    const carol = await person('Carol');
    await follow(alice.page, bob.account);
    await follow(bob.page, alice.account);

    // Carol, who nobody follows, writes to Alice: the dropbox is her way in.
    await nav(carol.page, 'Messages');
    await carol.page.getByRole('button', { name: 'New message' }).click();
    await carol.page.getByLabel('Someone else (link or identity)').fill(alice.account);
    await carol.page.getByRole('button', { name: 'Write' }).click();
    await carol.page.getByLabel('Your message').fill('Hello Alice, it is Carol from the market.');
    await carol.page.getByRole('button', { name: 'Send' }).click();
    await visible(carol.page.locator('.bubble.mine', { hasText: 'Carol from the market' }), 30_000);
    await nav(alice.page, 'Messages');
    await visible(alice.page.locator('section.requests .thread-row', { hasText: 'Carol from the market' }), 30_000);

    // Alice's links: Bob, and why.
    expect(await why(alice.page, bob.device, 'mutual')).toBe('you follow · follows you');
    expect(await why(bob.page, alice.device, 'mutual')).toBe('you follow · follows you');
    await quiet(alice.page);
    await shot(alice.page, '20-network-390');
    await alice.page.setViewportSize({ width: 1280, height: 900 });
    await shot(alice.page, '21-network-1280');
    await alice.page.getByTestId('privacy').screenshot({ path: 'test-results/screenshots/22-privacy-1280.png' });
    await alice.page.setViewportSize({ width: 390, height: 844 });
    await alice.page.getByTestId('privacy').screenshot({ path: 'test-results/screenshots/23-privacy-390.png' });

    // Carol: no link to Alice on either side, and no WebRTC connection ever made from her page.
    expect(await linkedOn(alice.page)).toEqual([bob.device]);
    expect(await linkedOn(carol.page)).toEqual([]);
    await visible(carol.page.getByText('No peers connected.'));
    expect(await pcCount(carol.page)).toBe(0);

    // Positive control: the same three, once Alice and Carol follow each other, link.
    await follow(alice.page, carol.account);
    await follow(carol.page, alice.account);
    expect(await why(carol.page, alice.device, 'mutual')).toBe('you follow · follows you');
    expect((await linkedOn(alice.page)).sort()).toEqual([bob.device, carol.device].sort());
    await expect.poll(() => pcCount(carol.page), { timeout: 30_000 }).toBeGreaterThan(0);
    await quiet(alice.page);
    await shot(alice.page, '24-network-two-links-390');
  });

  it('"Hide my address" without a TURN relay: the link goes through the room relay, and no RTCPeerConnection is opened', async () => {
    const dana = await person('Dana');
    await setPrivacy(dana.page, 'Hide my address', true);
    const eve = await person('Eve');
    await follow(dana.page, eve.account);
    await follow(eve.page, dana.account);

    expect(await (await peerRow(dana.page, eve.device)).getAttribute('data-transport')).toBe('relay');
    expect(await (await peerRow(eve.page, dana.device)).getAttribute('data-transport')).toBe('relay');
    await expect.poll(() => dana.page.getByTestId('turn-status').textContent()).toContain('your address is hidden');
    await quiet(dana.page);
    await shot(dana.page, '25-network-hidden-address-390');
    expect(await pcCount(dana.page)).toBe(0);

    // Positive control: the same two, once Dana shows her address again, link over WebRTC.
    await setPrivacy(dana.page, 'Hide my address', false);
    await expect
      .poll(async () => (await peerRow(dana.page, eve.device)).getAttribute('data-transport'), { timeout: 45_000 })
      .toBe('webrtc');
    expect(await pcCount(dana.page)).toBeGreaterThan(0);
  });
});
