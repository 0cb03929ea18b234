/**
 * Relaying through a real TURN server: coturn from Debian started on
 * 127.0.0.1 with a shared secret, and a Worker configured with that secret
 * and coturn's URL. Two people who turned on "Hide my address" replicate a
 * feed over a data channel whose selected candidate pair is `relay` at both
 * ends, seen from both browsers, and a call between them goes the same
 * way; when only one of them hides it, its end is
 * `relay` in both browsers' stats (positive control: before it turned the
 * setting on, the same two linked host to host). Credentials that are forged
 * or expired are refused by coturn; and data-channel throughput direct vs
 * relayed is measured and printed as a small table.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintTurnCredentials } from '../../src/server/turn/credentials.ts';
import {
  createIdentity,
  follow,
  identities,
  launch,
  linkTransport,
  nav,
  peerRow,
  postNote,
  profile,
  RECORD_PCS,
  screenshotsOnFailure,
  selectedPairs,
  selectedRoutes,
  setPrivacy,
  visible,
} from './browser.ts';
import { startCoturn, type RunningTurn } from './coturn.ts';
import { startWorker, type RunningWorker } from './worker.ts';

let turn: RunningTurn;
let worker: RunningWorker;
let browser: Browser;
const contexts: BrowserContext[] = [];
const measured: string[] = [];

async function person(name: string, hideAddress: boolean): Promise<{ page: Page; account: string; device: string }> {
  const { context, page } = await profile(browser, worker.url);
  contexts.push(context);
  await context.addInitScript(RECORD_PCS);
  await createIdentity(page, name);
  if (hideAddress) await setPrivacy(page, 'Hide my address', true);
  return { page, ...(await identities(page)) };
}

/** Until the page has a connected RTCPeerConnection, its selected pairs (`local/remote` candidate types). */
async function routesOf(page: Page): Promise<string[]> {
  await expect.poll(async () => (await selectedRoutes(page)).length, { timeout: 30_000 }).toBeGreaterThan(0);
  return selectedRoutes(page);
}

// Without coturn this fails in beforeAll, saying how to install it: never skipped.
describe('relaying through coturn', () => {
  beforeAll(async () => {
    turn = await startCoturn();
    worker = await startWorker(60_000, { TURN_URLS: turn.url, TURN_SECRET: turn.secret, TURN_TTL_SECONDS: '600' });
    browser = await launch();
  }, 90_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await screenshotsOnFailure(ctx.task.name);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await worker?.stop();
    await turn?.stop();
    if (measured.length) console.log(['', '| data channel, 1,000 × 16 KiB | MiB/s |', '|---|---|', ...measured].join('\n'));
  });

  it('mints credentials only for a signed request', async () => {
    const res = await fetch(`${worker.url}/api/turn`);
    expect(res.status).toBe(401);
  });

  it('two browsers that hide their address replicate a feed through TURN: relay at both ends', async () => {
    const alice = await person('Alice', true);
    const bob = await person('Bob', true);
    await follow(alice.page, bob.account);
    await follow(bob.page, alice.account);
    await postNote(alice.page, 'Hello through the relay');

    await nav(bob.page, 'Home');
    await visible(bob.page.locator('article.entry', { hasText: 'Hello through the relay' }), 45_000);
    expect(await linkTransport(bob.page, alice.device)).toBe('webrtc');
    const status = bob.page.getByTestId('turn-status');
    expect(await status.getAttribute('data-turn')).toBe('true');
    expect(await status.textContent()).toContain('your address is hidden');
    // A second RTCPeerConnection may still be negotiating (no pair yet: "?/?") while the link settles; once settled,
    // the one connection's selected pair is relay at both ends.
    for (const page of [alice.page, bob.page]) await expect.poll(() => selectedRoutes(page), { timeout: 30_000 }).toEqual(['relay/relay']);

    // Calls too: a voice call between them goes through TURN at both ends.
    for (const [page, other] of [
      [alice.page, bob.device],
      [bob.page, alice.device],
    ] as const) {
      const box = (await peerRow(page, other)).getByLabel('may call me');
      await box.click();
      await expect.poll(() => box.isChecked()).toBe(true);
    }
    await (await peerRow(bob.page, alice.device)).getByRole('button', { name: 'Voice call' }).click();
    await alice.page.locator('[data-testid=call][data-state=ringing]').getByRole('button', { name: 'Accept' }).click();
    await visible(alice.page.locator('[data-testid=call][data-state=active]'), 30_000);
    for (const page of [alice.page, bob.page]) {
      await expect.poll(async () => (await selectedRoutes(page)).length, { timeout: 30_000 }).toBe(2);
      expect(await selectedRoutes(page)).toEqual(['relay/relay', 'relay/relay']);
    }
  });

  it("one who hides the address: its end of the pair is coturn's relay in both browsers' stats, its own host address before", async () => {
    const erin = await person('Erin', false);
    const frank = await person('Frank', false);
    await follow(erin.page, frank.account);
    await follow(frank.page, erin.account);
    expect(await linkTransport(erin.page, frank.device)).toBe('webrtc');
    const [lo, hi] = turn.relayPorts;
    const relayed = (port: number) => port >= lo && port <= hi;
    // Positive control: with nobody hiding, Erin's end is her own (host) address, in her stats and in Frank's
    // (who may know it as `host`, or as `prflx` when the check arrived before the candidate).
    await routesOf(erin.page);
    expect((await selectedPairs(erin.page)).map((p) => p.local.type)).toEqual(['host']);
    await routesOf(frank.page);
    expect((await selectedPairs(frank.page)).map((p) => relayed(p.remote.port))).toEqual([false]);

    await setPrivacy(erin.page, 'Hide my address', true);
    // The direct link ends and comes back through TURN: Erin's end is now coturn's relayed address, in both browsers' stats.
    await expect.poll(async () => (await selectedPairs(erin.page)).map((p) => p.local.type), { timeout: 45_000 }).toEqual(['relay']);
    await expect
      .poll(async () => (await selectedPairs(frank.page)).map((p) => p.remote.type !== 'host' && relayed(p.remote.port)), {
        timeout: 45_000,
      })
      .toEqual([true]);
    expect(await (await peerRow(erin.page, frank.device)).getAttribute('data-transport')).toBe('webrtc');
  });

  it('forged and expired credentials are refused by coturn', async () => {
    const { context, page } = await profile(browser, worker.url);
    contexts.push(context);
    await page.goto('/');
    const good = await mintTurnCredentials(turn.secret, [turn.url], 'someone', 600);
    const expired = await mintTurnCredentials(turn.secret, [turn.url], 'someone', 60, Date.now() - 3600_000);
    const forged = { ...good, credential: Buffer.from('not the secret').toString('base64') };
    const gather = (c: { urls: readonly string[]; username: string; credential: string }) =>
      page.evaluate(async ({ urls, username, credential }) => {
        const pc = new RTCPeerConnection({ iceServers: [{ urls: [...urls], username, credential }], iceTransportPolicy: 'relay' });
        const relay: string[] = [];
        const errors: number[] = [];
        pc.onicecandidate = (e) => e.candidate?.type === 'relay' && relay.push(e.candidate.candidate);
        pc.onicecandidateerror = (e) => errors.push((e as RTCPeerConnectionIceErrorEvent).errorCode);
        pc.createDataChannel('probe');
        await pc.setLocalDescription(await pc.createOffer());
        await new Promise<void>((r) => {
          const t = setTimeout(r, 5000);
          pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && (clearTimeout(t), r());
        });
        pc.close();
        return { relay: relay.length, errors };
      }, c);
    const ok = await gather(good);
    expect(ok.relay).toBeGreaterThan(0);
    for (const bad of [forged, expired]) {
      const r = await gather(bad);
      expect(r.relay).toBe(0);
      expect(r.errors).toContain(401);
    }
  });

  it('measures data-channel throughput, direct vs relayed', async () => {
    const { context, page } = await profile(browser, worker.url);
    contexts.push(context);
    await page.goto('/');
    const creds = await mintTurnCredentials(turn.secret, [turn.url], 'bench', 600);
    const run = (relay: boolean) =>
      page.evaluate(
        async ({ relay, creds }) => {
          const config: RTCConfiguration = relay
            ? {
                iceServers: [{ urls: [...creds.urls], username: creds.username, credential: creds.credential }],
                iceTransportPolicy: 'relay',
              }
            : { iceServers: [] };
          const a = new RTCPeerConnection(config);
          const b = new RTCPeerConnection(config);
          a.onicecandidate = (e) => e.candidate && void b.addIceCandidate(e.candidate);
          b.onicecandidate = (e) => e.candidate && void a.addIceCandidate(e.candidate);
          const dc = a.createDataChannel('bench', { ordered: true });
          const received = new Promise<number>((resolve) => {
            b.ondatachannel = (e) => {
              let n = 0;
              e.channel.onmessage = () => {
                if (++n === 1000) resolve(performance.now());
              };
            };
          });
          await a.setLocalDescription(await a.createOffer());
          await b.setRemoteDescription(a.localDescription!);
          await b.setLocalDescription(await b.createAnswer());
          await a.setRemoteDescription(b.localDescription!);
          await new Promise<void>((r) => (dc.readyState === 'open' ? r() : (dc.onopen = () => r())));
          const chunk = new Uint8Array(16 * 1024);
          dc.bufferedAmountLowThreshold = 256 * 1024;
          const start = performance.now();
          for (let i = 0; i < 1000; i++) {
            if (dc.bufferedAmount > 1024 * 1024) await new Promise<void>((r) => (dc.onbufferedamountlow = () => r()));
            dc.send(chunk);
          }
          const end = await received;
          a.close();
          b.close();
          return (1000 * 16) / 1024 / ((end - start) / 1000);
        },
        { relay, creds },
      );
    const direct = await run(false);
    const relayed = await run(true);
    measured.push(`| direct (host candidates, loopback) | ${direct.toFixed(1)} |`, `| relayed through coturn | ${relayed.toFixed(1)} |`);
    expect(direct).toBeGreaterThan(0);
    expect(relayed).toBeGreaterThan(0);
  });
});
