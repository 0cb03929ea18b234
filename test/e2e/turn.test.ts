/**
 * Relaying through a real TURN server: coturn from Debian started on
 * 127.0.0.1 with a shared secret, and a Worker configured with that secret
 * and coturn's URL. Two people whose browsers relay everything
 * (`iceTransportPolicy: 'relay'`) replicate a feed over a data channel whose
 * selected candidate pair is `relay`; credentials that are forged or expired
 * are refused by coturn; and data-channel throughput direct vs relayed is
 * measured and printed as a small table.
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
  postNote,
  profile,
  screenshotsOnFailure,
  visible,
} from './browser.ts';
import { startCoturn, type RunningTurn } from './coturn.ts';
import { startWorker, type RunningWorker } from './worker.ts';

let turn: RunningTurn;
let worker: RunningWorker;
let browser: Browser;
const contexts: BrowserContext[] = [];
const measured: string[] = [];

/** Every RTCPeerConnection the page makes, so the test can read its stats. */
const RECORD_PCS = () => {
  const Native = RTCPeerConnection;
  const pcs: RTCPeerConnection[] = [];
  (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = pcs;
  (window as unknown as { RTCPeerConnection: unknown }).RTCPeerConnection = function (this: unknown, config?: RTCConfiguration) {
    const pc = new Native(config);
    pcs.push(pc);
    return pc;
  } as unknown as typeof RTCPeerConnection;
  (window as unknown as { RTCPeerConnection: { prototype: unknown } }).RTCPeerConnection.prototype = Native.prototype;
};

async function relayPerson(name: string): Promise<{ page: Page; account: string; device: string }> {
  const { context, page } = await profile(browser, worker.url);
  contexts.push(context);
  await context.addInitScript(() => localStorage.setItem('effigy.ice-policy', 'relay'));
  await context.addInitScript(RECORD_PCS);
  await createIdentity(page, name);
  return { page, ...(await identities(page)) };
}

/** Candidate types of the selected pairs of the page's connected RTCPeerConnections. */
const selectedRoutes = (page: Page): Promise<string[]> =>
  page.evaluate(async () => {
    const out: string[] = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      let local: string | undefined;
      let remote: string | undefined;
      stats.forEach((s: { type: string; state?: string; nominated?: boolean; localCandidateId?: string; remoteCandidateId?: string }) => {
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated) {
          local = s.localCandidateId;
          remote = s.remoteCandidateId;
        }
      });
      const kind = (id?: string) => (stats.get(id ?? '') as { candidateType?: string } | undefined)?.candidateType ?? '?';
      out.push(`${kind(local)}/${kind(remote)}`);
    }
    return out;
  });

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

  it('two browsers that relay everything replicate a feed through TURN', async () => {
    const alice = await relayPerson('Alice');
    const bob = await relayPerson('Bob');
    await follow(alice.page, bob.account);
    await follow(bob.page, alice.account);
    await postNote(alice.page, 'Hello through the relay');

    await nav(bob.page, 'Home');
    await visible(bob.page.locator('article.entry', { hasText: 'Hello through the relay' }), 45_000);
    expect(await linkTransport(bob.page, alice.device)).toBe('webrtc');
    const status = bob.page.getByTestId('turn-status');
    expect(await status.getAttribute('data-turn')).toBe('true');
    expect(await status.textContent()).toContain('this browser relays everything');
    const routes = await selectedRoutes(bob.page);
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.every((r) => r === 'relay/relay')).toBe(true);
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
