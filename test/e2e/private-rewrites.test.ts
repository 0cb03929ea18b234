/**
 * Three people in three browser profiles. Alice makes her posts private and
 * approves Bob and Carol, who read her next post; she removes Carol, and her
 * post after that reaches Carol's browser (shown as a private post she
 * cannot read) while Bob reads it. Then Alice deletes an early post: Bob
 * sees her later posts keep their order, and "Rewrote … posts" on her page.
 * Last, Mallory (a client in Node, through the Worker's data lease) signs two
 * versions of one post: Bob's page for her warns of it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  canonicalEndpoint,
  compareEntries,
  createEntry,
  generateKeyPair,
  type Entry,
  type Hash,
  type KeyPair,
} from '../../src/protocol/index.ts';
import { handshake, RoomClient, type Session } from '../support/room-client.ts';
import {
  createIdentity,
  follow,
  identities,
  launch,
  nav,
  postNote,
  profile,
  screenshotsOnFailure,
  settings,
  shot,
  visible,
} from './browser.ts';

const url = inject('workerUrl');

interface Person {
  page: Page;
  account: string;
  errors: string[];
}

let browser: Browser;
let alice: Person;
let bob: Person;
let carol: Person;

async function person(name: string): Promise<Person> {
  const { page, errors } = await profile(browser, url);
  await createIdentity(page, name);
  const { account } = await identities(page);
  return { page, account, errors };
}

/** On someone's page, approve them for (or remove them from) Alice's private posts. */
async function toggleApproval(page: Page, identity: string, button: 'Approve for private posts' | 'Remove from private posts') {
  await page.goto(`/#/id/${identity}`);
  await page.getByRole('button', { name: button }).click();
  const next = button === 'Approve for private posts' ? 'Remove from private posts' : 'Approve for private posts';
  await visible(page.getByRole('button', { name: next }));
}

const alicePage = async (p: Person) => {
  await p.page.goto(`/#/id/${alice.account}`);
  await visible(p.page.getByRole('heading', { name: 'Alice' }));
};

/** A session in the Worker's room `main` (the app's) for `keys`, granted the data lease. */
async function leaser(keys: KeyPair): Promise<Session> {
  const roomUrl = `${url.replace(/^http/, 'ws')}/room/main?identity=${keys.identity}`;
  const ws = new WebSocket(roomUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${roomUrl}`)), { once: true });
  });
  return handshake(new RoomClient(ws), canonicalEndpoint(roomUrl), { keys, request: ['datalease'] });
}

/** Leases `chain` (root first) to the Worker, answering its get_feed from the chain; resolves with the lease. */
async function leaseChain(s: Session, chain: readonly Entry[], id: string): Promise<void> {
  const byHash = new Map<Hash, Entry>(chain.map((e) => [e.hash, e]));
  const head = chain.at(-1)!;
  s.client.send({ type: 'call', id, service: 'datalease', identity: s.identity, head: head.hash, seconds: 600 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const i = s.client.inbox.findIndex((x) => x.type === 'get_feed' || ('re' in x && x.re === id));
    if (i < 0) {
      if (Date.now() > deadline) throw new Error(`no answer to the lease call ${id}`);
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    const m = s.client.inbox.splice(i, 1)[0]!;
    if (m.type !== 'get_feed') {
      expect(m).toMatchObject({ type: 'lease', head: head.hash });
      return;
    }
    const out: string[] = [];
    for (let at = byHash.get(m.from); at && at.hash !== m.known; at = at.body.parent ? byHash.get(at.body.parent) : undefined)
      out.push(at.text);
    s.client.send({ type: 'entries', re: m.id, identity: m.identity, entries: out });
  }
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

describe('private posts and rewrites, three people', () => {
  it('an approved follower reads the private posts; a removed one receives the next but cannot read it', async () => {
    alice = await person('Alice');
    bob = await person('Bob');
    carol = await person('Carol');
    await follow(bob.page, alice.account);
    await follow(carol.page, alice.account);
    // Links are by consent: Alice follows them back, so their browsers link with hers.
    await follow(alice.page, bob.account);
    await follow(alice.page, carol.account);

    await settings(alice.page, 'Private posts');
    await alice.page.getByLabel('Make my new posts private').check();
    await visible(alice.page.getByText('New posts are private.'));
    await toggleApproval(alice.page, bob.account, 'Approve for private posts');
    await toggleApproval(alice.page, carol.account, 'Approve for private posts');
    await postNote(alice.page, 'Only for my followers');

    for (const p of [bob, carol]) {
      await alicePage(p);
      await visible(p.page.locator('article.entry', { hasText: 'Only for my followers' }), 45_000);
    }
    await shot(bob.page, 'private-1-approved-reads');

    await toggleApproval(alice.page, carol.account, 'Remove from private posts');
    await settings(alice.page, 'Private posts');
    await visible(alice.page.getByRole('list', { name: 'Approved followers' }).getByText('Bob'));
    expect(await alice.page.getByRole('list', { name: 'Approved followers' }).textContent()).not.toContain('Carol');
    await postNote(alice.page, 'After Carol left');

    await alicePage(bob);
    await visible(bob.page.locator('article.entry', { hasText: 'After Carol left' }), 45_000);
    // Carol's browser receives the post (it counts as a private post she cannot read), and never shows its text.
    await alicePage(carol);
    await visible(carol.page.getByText(/private post you cannot read/), 45_000);
    await visible(carol.page.locator('article.entry', { hasText: 'Only for my followers' }));
    expect(await carol.page.locator('main').textContent()).not.toContain('After Carol left');
    await shot(carol.page, 'private-2-removed-cannot-read');
  });

  it('deleting an early post keeps the later ones in order, and Bob sees "Rewrote … posts" on her page', async () => {
    await settings(alice.page, 'Private posts');
    await alice.page.getByLabel('Make my new posts private').uncheck();
    await visible(alice.page.getByText('New posts are public.'));
    await postNote(alice.page, 'First public note');
    await postNote(alice.page, 'Second public note');
    await postNote(alice.page, 'Third public note');
    await alicePage(bob);
    await visible(bob.page.locator('article.entry', { hasText: 'Third public note' }), 45_000);

    await nav(alice.page, 'Home');
    const first = alice.page.locator('article.entry', { hasText: 'First public note' });
    await first.getByRole('button', { name: 'Delete' }).click();
    await first.getByRole('alertdialog').getByRole('button', { name: 'Delete and rewrite' }).click();
    await first.waitFor({ state: 'detached' });

    await alicePage(bob);
    const notes = bob.page.getByRole('list', { name: 'Changes to the past' });
    await visible(notes, 45_000);
    expect(await notes.textContent()).toMatch(/Rewrote \d+ posts on .+\(1 deleted\)/);
    // A rewrite with its rebase entry is not a conflict.
    expect(await notes.textContent()).not.toMatch(/two different versions|without saying so/);
    await bob.page.locator('article.entry', { hasText: 'First public note' }).waitFor({ state: 'detached', timeout: 30_000 });
    // The later posts keep their order (newest first).
    const texts = await bob.page.locator('article.entry').allTextContents();
    const third = texts.findIndex((t) => t.includes('Third public note'));
    const second = texts.findIndex((t) => t.includes('Second public note'));
    expect(third).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThan(third);
    await shot(bob.page, 'rewrite-evidence');
    for (const p of [alice, bob, carol]) expect(p.errors).toEqual([]);
  });

  it('two versions of one post that no rebase explains: Bob sees the first, then a warning on her page', async () => {
    const mallory = await generateKeyPair();
    const now = Date.now();
    const root = await createEntry(mallory, {
      parent: null,
      comparable: now - 60_000,
      synod: null,
      payload: { type: 'public_note', text: 'Hello' },
    });
    const versions = await Promise.all(
      ['Version one', 'Version two'].map((text) =>
        createEntry(mallory, { parent: root.hash, comparable: now, synod: null, payload: { type: 'public_note', text } }),
      ),
    );
    // The hash decides between equal comparables (§8.2): Bob is shown the losing version first, so the winner must replace it.
    const [winner, loser] = [...versions].sort(compareEntries) as [Entry, Entry];
    const s = await leaser(mallory);
    await leaseChain(s, [root, loser], 'first');

    await follow(bob.page, mallory.identity);
    await bob.page.goto(`/#/id/${mallory.identity}`);
    const text = (e: Entry) => (e.body.payload.type === 'public_note' ? e.body.payload.text : '');
    await visible(bob.page.locator('article.entry', { hasText: text(loser) }), 45_000);
    expect(await bob.page.getByRole('list', { name: 'Changes to the past' }).count()).toBe(0);

    await leaseChain(s, [root, winner], 'second');
    s.client.close();
    // Reconnecting asks the room for Mallory's head again: now the other version.
    await bob.page.reload();
    await visible(bob.page.locator('article.entry', { hasText: text(winner) }), 45_000);
    const notes = bob.page.getByRole('list', { name: 'Changes to the past' });
    await visible(notes.getByText(/Signed two different versions of one post/), 45_000);
    expect(await bob.page.locator('main').textContent()).not.toContain(text(loser));
    await shot(bob.page, 'equivocation-shown');
    expect(bob.errors).toEqual([]);
  });
});
