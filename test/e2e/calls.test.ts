/**
 * Voice and video calls in Chromium with fake media devices: Alice and Bob
 * follow each other and each lets the other call; Bob calls, Alice's page
 * rings, she accepts, and both pages decode the other's video and receive
 * audio (getStats). Mute, camera off and hang up work from the UI. Once
 * Alice takes Bob off her list of who may call, his call is refused without
 * ringing. Carol follows Alice but Alice does not follow Carol: Alice is not
 * even online for Carol (links by consent), so Carol cannot call her.
 * Prints the time from "call" to the first decoded frame.
 */
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { follow, linkTransport, nav, postNote, settings, shot, visible, newAccount, useBrowser } from './browser.ts';

const url = inject('workerUrl');
const chromium = useBrowser();
const contexts = chromium.contexts;

interface Person {
  page: Page;
  account: string;
  device: string;
}

const person = (name: string): Promise<Person> => newAccount(chromium.browser, url, name, contexts);

/** The row of a linked peer on the Network screen. */
async function peerRow(page: Page, device: string) {
  await linkTransport(page, device);
  return page.locator(`[data-testid=peers] li[data-identity="${device}"]`);
}

async function allowCalls(page: Page, device: string): Promise<void> {
  const row = await peerRow(page, device);
  const box = row.getByLabel('may call me');
  await visible(box, 30_000);
  // A controlled checkbox: it shows checked once the setting is stored.
  await box.click();
  await visible(row.getByRole('button', { name: 'Video call' }));
}

/** Inbound RTP of the page's current call. */
const inbound = (page: Page) =>
  page.evaluate(async () => {
    const pc = (globalThis as unknown as { effigyCalls: { connection(): RTCPeerConnection | null } }).effigyCalls.connection();
    const out = { framesDecoded: 0, audioSamples: 0, audioBytes: 0 };
    if (!pc) return out;
    (await pc.getStats()).forEach(
      (s: { type: string; kind?: string; framesDecoded?: number; totalSamplesReceived?: number; bytesReceived?: number }) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') out.framesDecoded += s.framesDecoded ?? 0;
        if (s.kind === 'audio') {
          out.audioSamples += s.totalSamplesReceived ?? 0;
          out.audioBytes += s.bytesReceived ?? 0;
        }
      },
    );
    return out;
  });

describe('voice and video calls', () => {
  it('a call between mutual followers rings, connects both ways, and hangs up; a caller not on the list is refused without ringing', async () => {
    const alice = await person('Alice');
    const bob = await person('Bob');
    const carol = await person('Carol');
    await follow(alice.page, bob.account);
    await follow(bob.page, alice.account);
    await follow(carol.page, alice.account);
    await postNote(bob.page, 'Bob follows Alice');
    await postNote(carol.page, 'Carol follows Alice');
    // Alice has Bob's feed, with his follow of her, before he calls.
    await nav(alice.page, 'Home');
    await visible(alice.page.locator('article.entry', { hasText: 'Bob follows Alice' }), 45_000);

    await allowCalls(alice.page, bob.device);
    await allowCalls(bob.page, alice.device);

    // Bob calls; Alice's page rings; she accepts.
    const row = await peerRow(bob.page, alice.device);
    const placed = Date.now();
    await row.getByRole('button', { name: 'Video call' }).click();
    const ringing = alice.page.locator('[data-testid=call][data-state=ringing]');
    await visible(ringing, 20_000);
    const rang = Date.now();
    await ringing.getByRole('button', { name: 'Accept' }).click();

    let aliceFirstFrame = 0;
    let bobFirstFrame = 0;
    await expect
      .poll(
        async () => {
          const [a, b] = [await inbound(alice.page), await inbound(bob.page)];
          if (!aliceFirstFrame && a.framesDecoded > 0) aliceFirstFrame = Date.now();
          if (!bobFirstFrame && b.framesDecoded > 0) bobFirstFrame = Date.now();
          return a.framesDecoded > 0 && b.framesDecoded > 0 && a.audioBytes > 0 && b.audioBytes > 0;
        },
        { timeout: 20_000, interval: 100 },
      )
      .toBe(true);
    await visible(alice.page.locator('[data-testid=call][data-state=active]'));
    await visible(bob.page.locator('[data-testid=call][data-state=active]'));
    // Audio counts once the remote track plays.
    await expect.poll(async () => (await inbound(alice.page)).audioSamples, { timeout: 10_000 }).toBeGreaterThan(0);
    await shot(alice.page, '20-call');

    // Controls: mute, camera off, hang up.
    const panel = alice.page.getByTestId('call');
    await panel.getByRole('button', { name: 'Mute microphone' }).click();
    await visible(panel.getByRole('button', { name: 'Unmute microphone' }));
    await panel.getByRole('button', { name: 'Camera off' }).click();
    await visible(panel.getByRole('button', { name: 'Camera on' }));
    expect(
      await alice.page.evaluate(() =>
        (globalThis as unknown as { effigyCalls: { current: { local: MediaStream } } }).effigyCalls.current.local
          .getTracks()
          .map((t) => `${t.kind}:${t.enabled}`)
          .sort(),
      ),
    ).toEqual(['audio:false', 'video:false']);
    await panel.getByRole('button', { name: 'Hang up' }).click();
    await visible(alice.page.locator('[data-testid=call][data-state=ended]'));
    await visible(bob.page.locator('[data-testid=call][data-state=ended]'));

    // Alice takes Bob off her list: his next call is refused without ringing.
    await alice.page.getByTestId('call').getByRole('button', { name: 'Close' }).click();
    const aliceRow = await peerRow(alice.page, bob.device);
    await aliceRow.getByLabel('may call me').click();
    await expect.poll(() => aliceRow.getByLabel('may call me').isChecked()).toBe(false);
    await bob.page.getByTestId('call').getByRole('button', { name: 'Close' }).click();
    await (await peerRow(bob.page, alice.device)).getByRole('button', { name: 'Video call' }).click();
    await visible(bob.page.locator('[data-testid=call][data-state=ended]', { hasText: 'refused' }), 20_000);
    expect(await alice.page.locator('[data-testid=call]').count()).toBe(0);
    await settings(alice.page, 'Network');
    await alice.page.locator('details summary', { hasText: 'Log' }).click();
    expect(await alice.page.locator('pre.log').textContent()).toContain('refused a call');

    // Carol follows Alice, Alice does not follow Carol: Alice is not online for her, even with Carol on Alice's list.
    await alice.page.evaluate(
      (who) =>
        (globalThis as unknown as { effigyCalls: { setPermitted(p: string, a: boolean): Promise<void> } }).effigyCalls.setPermitted(
          who,
          true,
        ),
      carol.account,
    );
    await carol.page.evaluate(
      (who) =>
        (globalThis as unknown as { effigyCalls: { setPermitted(p: string, a: boolean): Promise<void> } }).effigyCalls.setPermitted(
          who,
          true,
        ),
      alice.account,
    );
    const attempt = await carol.page.evaluate(
      (who) =>
        (globalThis as unknown as { effigyCalls: { call(d: string, v: boolean): Promise<unknown> } }).effigyCalls.call(who, false).then(
          () => 'placed',
          (err: Error) => err.message,
        ),
      alice.device,
    );
    expect(attempt).not.toBe('placed');
    const seen = await carol.page.evaluate(
      (who) =>
        [
          ...(
            globalThis as unknown as { effigy: { mesh: { rooms: Map<string, { present: Map<string, unknown> }> } } }
          ).effigy.mesh.rooms.values(),
        ].some((r) => r.present.has(who)),
      alice.device,
    );
    expect(seen).toBe(false);
    expect(await alice.page.locator('[data-testid=call]').count()).toBe(0);

    console.log(
      [
        '',
        '| call (fake media, loopback, host candidates) | ms |',
        '|---|---|',
        `| "Video call" clicked → callee rings | ${rang - placed} |`,
        `| "Video call" clicked → first frame decoded at callee (incl. Accept click) | ${aliceFirstFrame - placed} |`,
        `| "Video call" clicked → first frame decoded at caller | ${bobFirstFrame - placed} |`,
      ].join('\n'),
    );
  });
});
