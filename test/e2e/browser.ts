/**
 * Driving Debian's Chromium with playwright-core: one browser, a context per
 * person (an independent profile: its own IndexedDB, keys, service worker),
 * and helpers that act through the UI the way a person would.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { locate } from '../../scripts/prereqs.mjs';

/** Wait for a locator to be visible (playwright-core has no test-runner `expect`). */
export const visible = (locator: Locator, timeout = 20_000): Promise<void> => locator.first().waitFor({ state: 'visible', timeout });

export const SCREENSHOTS = 'test-results/screenshots';

/** Debian's Chromium, where scripts/prereqs.mjs (the first step of `npm test`) found or installed it. */
function chromiumPath(): string {
  const path = locate('chromium', { envVar: 'CHROMIUM_PATH' });
  if (path === null) {
    throw new Error(
      'Chromium is not installed (no `chromium` on PATH, CHROMIUM_PATH unset): the browser tests need it. ' +
        '`npm test` installs it when it can; or run `sudo apt-get install -y chromium`.',
    );
  }
  return path;
}

// WebRTC on loopback needs both the loopback flag and media permission
// (without them Chromium gathers no usable candidates here).
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  // Remote call audio plays (and counts in getStats) without a click.
  '--autoplay-policy=no-user-gesture-required',
];

/** `camera`: a Y4M file the fake camera plays instead of its test pattern. */
export function launch(options: { camera?: string } = {}): Promise<Browser> {
  const args = options.camera ? [...ARGS, `--use-file-for-fake-video-capture=${options.camera}`] : ARGS;
  return chromium.launch({ executablePath: chromiumPath(), args, timeout: 30_000 });
}

/**
 * A phone-sized profile; page errors fail the test that caused them.
 * `consoleErrors` collects what the console shows as errors (failed WebSocket
 * connections aside: offline and unreachable servers are expected, and the
 * app says so itself).
 */
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

export async function profile(
  browser: Browser,
  baseURL: string,
  viewport: { width: number; height: number } = PHONE,
): Promise<{ context: BrowserContext; page: Page; errors: string[]; consoleErrors: string[] }> {
  const context = await browser.newContext({
    baseURL,
    viewport,
    permissions: ['camera', 'microphone'],
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const errors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => {
    if (m.type() !== 'error' || m.text().startsWith('WebSocket connection')) return;
    const where = m.location().url;
    consoleErrors.push(where ? `${m.text()} (${where})` : m.text());
    console.warn(`[page console] ${m.text()}`);
  });
  pages.push(page);
  return { context, page, errors, consoleErrors };
}

const pages: Page[] = [];

/** After a failed test: a screenshot of every open page, to see what the person would have seen. */
export async function screenshotsOnFailure(name: string): Promise<void> {
  let i = 0;
  for (const page of pages) {
    if (page.isClosed()) continue;
    await shot(page, `FAILED-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-${++i}`).catch(() => undefined);
  }
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

/** One of the five tabs (Home, Compose, People, Messages, Me). */
export async function nav(page: Page, label: string): Promise<void> {
  const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: new RegExp(`^${label}\\b`) });
  await link.click();
  // The tabs and the screen render together: once the tab is current, the screen is there.
  await page.waitForFunction((text) => document.querySelector('nav.tabs a[aria-current=page] .label')?.textContent === text, label);
  await visible(page.locator('h2.screen-title'));
}

/** A settings screen under Me (Devices, Servers, Network, Recovery words). */
export async function settings(page: Page, title: string): Promise<void> {
  await nav(page, 'Me');
  await page.locator('a.setting', { has: page.locator('.title', { hasText: new RegExp(`^${title}$`) }) }).click();
  await visible(page.getByRole('heading', { name: title, level: 2 }));
}

/** The words screen after creating: reveal, read, then give three of them back. Returns the words. */
export async function confirmWords(page: Page, screenshot?: string): Promise<string[]> {
  const reveal = page.getByRole('button', { name: 'Show my 24 words' });
  await reveal.or(page.getByTestId('mnemonic')).first().waitFor();
  if (await reveal.isVisible()) await reveal.click();
  const words = page.getByTestId('mnemonic').locator('.w');
  await visible(words);
  await expect.poll(() => words.count()).toBe(24);
  const list = await words.allTextContents();
  if (screenshot) await shot(page, screenshot);
  await page.getByRole('button', { name: 'I have written them down' }).click();
  const labels = await page.locator('form label').allTextContents();
  for (const label of labels) {
    const n = Number(/Word (\d+)/.exec(label)?.[1]);
    await page.getByLabel(label, { exact: true }).fill(list[n - 1] ?? '');
  }
  await page.getByRole('button', { name: 'Check' }).click();
  return list;
}

/** First visit: create an account, confirm the words, arrive at Home. Returns the words. */
export async function createIdentity(page: Page, name: string, screenshot?: string): Promise<string[]> {
  await page.goto('/');
  if (screenshot) await shot(page, '00-start');
  await page.getByRole('button', { name: 'Create a new account' }).click();
  await page.getByLabel('Your name (optional)').fill(name);
  await page.getByRole('button', { name: 'Create my account' }).click();
  const list = await confirmWords(page, screenshot);
  await visible(page.getByRole('heading', { name: 'Home' }));
  return list;
}

/** The account identity (synod) and this device's identity, from Me and its profile screen. */
export async function identities(page: Page): Promise<{ account: string; device: string }> {
  await nav(page, 'Me');
  const account = (await page.locator('.identity-card code[data-identity]').getAttribute('data-identity')) ?? '';
  await page.getByRole('link', { name: 'Edit profile' }).click();
  const code = page.locator('code[data-device-identity]');
  await visible(code);
  const device = (await code.getAttribute('data-device-identity')) ?? '';
  return { account, device };
}

/** A new browser profile with a fresh account named `name`; its context is pushed onto `contexts` for closing. */
export async function newAccount(
  browser: Browser,
  baseURL: string,
  name: string,
  contexts: BrowserContext[],
): Promise<{ name: string; context: BrowserContext; page: Page; account: string; device: string }> {
  const { context, page } = await profile(browser, baseURL);
  contexts.push(context);
  await createIdentity(page, name);
  return { name, context, page, ...(await identities(page)) };
}

export async function follow(page: Page, identity: string): Promise<void> {
  await nav(page, 'People');
  await page.getByLabel('Their link or identity').fill(identity);
  await page.locator('.found').getByRole('button', { name: 'Follow', exact: true }).click();
  await visible(page.locator('.found').getByText('Following', { exact: true }));
}

export async function postNote(page: Page, text: string): Promise<void> {
  await nav(page, 'Home');
  await page.getByLabel('Write a public note').fill(text);
  await page.getByRole('button', { name: 'Post note' }).click();
  await visible(page.locator('article.entry', { hasText: text }));
}

/** axe-core on the page as it is: serious and critical violations, as "rule: target" lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.addScriptTag({ path: axePath });
  const results = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return results
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')}: ${v.help}`));
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Wait until the page's service worker controls it (the shell is cached). */
export async function swReady(page: Page): Promise<void> {
  await page.waitForFunction(
    () => navigator.serviceWorker?.controller !== null && navigator.serviceWorker?.controller !== undefined,
    null,
    { timeout: 20_000 },
  );
}

/** Wait until a peer link with the given identity shows on the Network screen; returns its transport. */
export async function linkTransport(page: Page, identity: string): Promise<string> {
  await settings(page, 'Network');
  const row = page.locator(`[data-testid=peers] li[data-identity="${identity}"]`);
  await visible(row, 30_000);
  return (await row.getAttribute('data-transport')) ?? '';
}

/** An init script: every RTCPeerConnection the page makes is kept in `window.__pcs`, so a test can read its stats. */
export const RECORD_PCS = () => {
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

/** How many RTCPeerConnections the page has made (RECORD_PCS). */
export const pcCount = (page: Page): Promise<number> =>
  page.evaluate(() => (window as unknown as { __pcs?: RTCPeerConnection[] }).__pcs?.length ?? -1);

/** `local/remote` candidate types of the selected pair of each connected RTCPeerConnection of the page (RECORD_PCS). */
export const selectedRoutes = (page: Page): Promise<string[]> =>
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

/** Turn a privacy setting on or off, from the Network screen, as a person would. */
export async function setPrivacy(page: Page, label: string, on: boolean): Promise<void> {
  await settings(page, 'Network');
  const box = page.getByTestId('privacy').getByLabel(label);
  await box.setChecked(on);
  await expect.poll(() => box.isChecked()).toBe(on);
}

/** The row of a linked peer on the Network screen, once it is there. */
export async function peerRow(page: Page, identity: string, timeout = 30_000): Promise<Locator> {
  await settings(page, 'Network');
  const row = page.locator(`[data-testid=peers] li[data-identity="${identity}"]`);
  await visible(row, timeout);
  return row;
}

/** The selected pair of each connected RTCPeerConnection of the page (RECORD_PCS): each end's candidate type and port. */
export const selectedPairs = (page: Page): Promise<{ local: { type: string; port: number }; remote: { type: string; port: number } }[]> =>
  page.evaluate(async () => {
    const out: { local: { type: string; port: number }; remote: { type: string; port: number } }[] = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      let pair: { localCandidateId?: string; remoteCandidateId?: string } | undefined;
      stats.forEach((s: { type: string; state?: string; nominated?: boolean; localCandidateId?: string; remoteCandidateId?: string }) => {
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated) pair = s;
      });
      const end = (id?: string) => {
        const c = stats.get(id ?? '') as { candidateType?: string; port?: number } | undefined;
        return { type: c?.candidateType ?? '?', port: c?.port ?? 0 };
      };
      out.push({ local: end(pair?.localCandidateId), remote: end(pair?.remoteCandidateId) });
    }
    return out;
  });

/**
 * One Chromium for a test file: launched before its tests, closed after them
 * with every context pushed onto `contexts`; a failed test leaves screenshots.
 */
export function useBrowser(): { readonly browser: Browser; readonly contexts: BrowserContext[] } {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launch();
  }, 60_000);
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await screenshotsOnFailure(ctx.task.name);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
  });
  return {
    get browser(): Browser {
      if (!browser) throw new Error('Chromium is not launched yet: use it inside a test or hook');
      return browser;
    },
    contexts,
  };
}
