import { env, exports } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildDirectory,
  createEntry,
  generateKeyPair,
  hashOf,
  openEntry,
  rebase,
  utf8,
  type Entry,
  type Hash,
  type Identity,
} from '../../src/protocol/index.ts';
import { cleanup } from '../../src/server/hosted/cleanup.ts';
import { HOSTED_LIMITS } from '../../src/server/hosted/limits.ts';
import type { Session } from '../support/room-client.ts';
import { blobUrl, bytesOf, chainOf, count, fetchFeed, getBlobOverRoom, putBlob, serveFeed } from './hosted-helpers.ts';
import { join, leaveAll, roomName, settleRooms, sleep } from './room-helpers.ts';
import { synodFeed } from './dropbox-helpers.ts';

afterAll(settleRooms);

let ids = 0;
/** Sends `call` and waits for its lease or error. */
async function call(s: Session, identity: Identity, head: Hash, seconds = 3600) {
  const id = `c${ids++}`;
  s.client.send({ type: 'call', id, service: 'datalease', identity, head, seconds });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const i = s.client.inbox.findIndex((m) => (m.type === 'lease' || m.type === 'error') && m.re === id);
    if (i >= 0) return s.client.inbox.splice(i, 1)[0]!;
    if (Date.now() > deadline) throw new Error(`no answer to call ${id}`);
    await sleep(5);
  }
}

const committed = (identity: string) => count('SELECT COUNT(*) AS n FROM leased_entries WHERE identity = ? AND pull IS NULL', identity);
const leaseRow = (identity: string) =>
  env.DB.prepare('SELECT head, entries, bytes, holder, expires_at FROM leases WHERE identity = ?')
    .bind(identity)
    .first<{ head: string; entries: number; bytes: number; holder: string; expires_at: number }>();
const head = (chain: readonly Entry[]) => chain[chain.length - 1]!;

describe('data leases', { timeout: 30_000 }, () => {
  it('makes a feed and its blobs fetchable by anyone while the owner is offline', async () => {
    const owner = await generateKeyPair();
    const picture = bytesOf(100_000, 11);
    const avatar = bytesOf(3000, 12);
    expect((await putBlob(owner, picture)).status).toBe(201);
    expect((await putBlob(owner, avatar)).status).toBe(201);
    const chain = await chainOf(owner, 300, {
      payloadOf: (i) =>
        i === 5
          ? { type: 'image', blob: { hash: hashOf(picture), size: picture.length }, mime: 'image/png', caption: "'; DROP TABLE leases; --" }
          : i === 7
            ? { type: 'identification', name: 'Owner', avatar: { hash: hashOf(avatar), size: avatar.length } }
            : { type: 'public_note', text: `note ${i} ${'é'.repeat(i % 50)}` },
    });

    const o = await join(roomName('lease-owner'), { keys: owner });
    const server = serveFeed(o, chain);
    const before = Date.now();
    const answer = await call(o, owner.identity, head(chain).hash, 3600);
    expect(answer).toMatchObject({ type: 'lease', identity: owner.identity, head: head(chain).hash });
    const expires = answer.type === 'lease' ? answer.expires : 0;
    expect(expires).toBeGreaterThanOrEqual(before + 3600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000);
    expect(server.asked[0]).toMatchObject({ identity: owner.identity, from: head(chain).hash, known: null });
    expect(await leaseRow(owner.identity)).toMatchObject({
      head: head(chain).hash,
      entries: 300,
      holder: owner.identity,
      expires_at: expires,
    });
    expect(await count('SELECT COUNT(*) AS n FROM leased_refs WHERE identity = ?', owner.identity)).toBe(2);
    await leaveAll([o]);

    // Someone else, in another room, with the owner gone.
    const reader = await join(roomName('lease-reader'));
    reader.client.send({ type: 'get_heads', id: 'h', identities: [owner.identity] });
    expect((await reader.client.next('last_known_heads', (m) => m.re === 'h')).heads).toEqual([[owner.identity, head(chain).hash]]);
    const texts = await fetchFeed(reader, owner.identity, head(chain).hash);
    expect(texts).toEqual([...chain].reverse().map((e) => e.text));
    for (const [i, t] of texts.entries())
      expect((await openEntry(t, { identity: owner.identity, hash: chain[299 - i]!.hash })).ok).toBe(true);

    reader.client.send({ type: 'iwant', id: 'w', hashes: [hashOf(picture), chain[0]!.hash, hashOf(utf8('nobody has this'))] });
    expect((await reader.client.next('ihave', (m) => m.re === 'w')).blobs).toEqual([
      [hashOf(picture), picture.length],
      [chain[0]!.hash, chain[0]!.size],
    ]);
    expect(await getBlobOverRoom(reader, hashOf(picture))).toEqual(picture);
    expect(new TextDecoder().decode(await getBlobOverRoom(reader, chain[42]!.hash))).toBe(chain[42]!.text);
    const http = await exports.default.fetch(blobUrl(hashOf(avatar)));
    expect(new Uint8Array(await http.arrayBuffer())).toEqual(avatar);
    await expect(getBlobOverRoom(reader, hashOf(picture), 10)).rejects.toThrow('too_big');
    expect(reader.client.invalid).toEqual([]);

    // Referenced blobs outlive their own grace time while the lease lives.
    await env.DB.prepare('UPDATE blobs SET expires_at = 0 WHERE hash IN (?, ?)').bind(hashOf(picture), hashOf(avatar)).run();
    await cleanup(env);
    expect(await env.BLOBS.head(hashOf(picture))).not.toBeNull();
    expect(await env.BLOBS.head(hashOf(avatar))).not.toBeNull();
    await leaveAll([reader]);
  });

  it('renews without pulling, pulls only what is new, and follows a rebase', async () => {
    const owner = await generateKeyPair();
    let chain = await chainOf(owner, 20);
    const o = await join(roomName('lease-renew'), { keys: owner });
    const server = serveFeed(o, chain);
    const first = await call(o, owner.identity, head(chain).hash, 600);
    expect(first.type).toBe('lease');

    // The same head again: a renewal; no get_feed; never shortened.
    const asked = server.asked.length;
    const renewed = await call(o, owner.identity, head(chain).hash, 7200);
    expect(renewed.type === 'lease' && first.type === 'lease' && renewed.expires > first.expires).toBe(true);
    const shorter = await call(o, owner.identity, head(chain).hash, 60);
    expect(shorter.type === 'lease' && renewed.type === 'lease' && shorter.expires).toBe(renewed.type === 'lease' && renewed.expires);
    expect(server.asked.length).toBe(asked);

    // Three more entries: only they are pulled (known = the leased head).
    const more = await chainOf(owner, 3, { parent: head(chain) });
    for (const e of more) server.entries.set(e.hash, e);
    const oldHead = head(chain);
    chain = [...chain, ...more];
    expect((await call(o, owner.identity, head(chain).hash)).type).toBe('lease');
    expect(server.asked.at(-1)).toMatchObject({ from: head(chain).hash, known: oldHead.hash });
    expect((await leaseRow(owner.identity))?.entries).toBe(23);

    // Rebase away the last two entries: the lease follows, the dropped ones go.
    const rebased = await rebase(owner, chain, new Set([chain[21]!.hash, chain[22]!.hash]), Date.now());
    for (const e of rebased) server.entries.set(e.hash, e);
    const newChain = [...chain.slice(0, 20), ...rebased];
    expect((await call(o, owner.identity, head(newChain).hash)).type).toBe('lease');
    expect(await committed(owner.identity)).toBe(newChain.length);
    expect((await leaseRow(owner.identity))?.entries).toBe(newChain.length);
    for (const gone of [chain[20]!, chain[21]!, chain[22]!]) {
      expect(await count('SELECT COUNT(*) AS n FROM leased_entries WHERE hash = ?', gone.hash)).toBe(0);
    }
    const reader = await join(roomName('lease-renew-reader'));
    expect(await fetchFeed(reader, owner.identity, head(newChain).hash)).toEqual([...newChain].reverse().map((e) => e.text));

    // An older head is a rollback, refused; the lease stays where it was.
    const back = await call(o, owner.identity, chain[10]!.hash);
    expect(back).toMatchObject({ type: 'error', code: 'rollback' });
    expect((await leaseRow(owner.identity))?.head).toBe(head(newChain).hash);
    await leaveAll([o, reader]);
  });

  it("refuses a lease of someone else's feed, and lets a synod's proven devices lease for each other", async () => {
    const room = roomName('lease-synod');
    const synod = await generateKeyPair();
    const [d1, d2, d3] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    // The synod adds d1 and d2; d3 only claims it.
    const synodChain = await synodFeed(synod, [d1, d2]);
    const claim: [Identity, Hash] = [synod.identity, head(synodChain).hash];
    const feeds = new Map<Identity, Entry[]>();
    for (const d of [d1, d2, d3]) feeds.set(d.identity, await chainOf(d, 3, { synod: claim }));
    const announce = async (s: Session, e: Entry) => {
      s.client.send({ type: 'announce', id: `a${ids++}`, entry: e.text });
      await s.client.next('ok');
    };

    // A stranger may not lease the device's feed.
    const stranger = await join(room);
    const s1 = await join(room, { keys: d1 });
    await announce(s1, head(feeds.get(d1.identity)!));
    serveFeed(stranger, feeds.get(d1.identity)!);
    const refused = await call(stranger, d1.identity, head(feeds.get(d1.identity)!).hash);
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await leaseRow(d1.identity)).toBeNull();

    // d1 shows the synod's chain: it and d2 are devices, so d1 leases d2's feed (devices replicate each other).
    const s2 = await join(room, { keys: d2 });
    await announce(s2, head(feeds.get(d2.identity)!));
    serveFeed(s1, [...feeds.get(d1.identity)!, ...feeds.get(d2.identity)!, ...synodChain]);
    expect(await call(s1, d2.identity, head(feeds.get(d2.identity)!).hash)).toMatchObject({ type: 'lease', identity: d2.identity });
    // d1 may lease the synod's feed.
    expect((await call(s1, synod.identity, head(synodChain).hash)).type).toBe('lease');

    // d3 claims the synod and shows its chain, which has no add_device for d3: refused.
    const s3 = await join(room, { keys: d3 });
    await announce(s3, head(feeds.get(d3.identity)!));
    serveFeed(s3, [...feeds.get(d3.identity)!, ...feeds.get(d1.identity)!, ...synodChain]);
    expect(await call(s3, d1.identity, head(feeds.get(d1.identity)!).hash)).toMatchObject({ type: 'error', code: 'forbidden' });

    // The synod may lease its device's feed.
    const ss = await join(room, { keys: synod });
    serveFeed(ss, [...synodChain, ...feeds.get(d1.identity)!]);
    expect((await call(ss, d1.identity, head(feeds.get(d1.identity)!).hash)).type).toBe('lease');
    await leaveAll([stranger, s1, s2, s3, ss]);
  });

  it('validates every entry and link of the pull, and a failed pull leaves nothing visible', async () => {
    const room = roomName('lease-bad');
    const owner = await generateKeyPair();
    const chain = await chainOf(owner, 10);
    const other = await chainOf(await generateKeyPair(), 3);
    const forged = (t: string) => t.slice(0, -2) + (t.endsWith('AA') ? 'BA' : 'AA');
    // A second chain whose link breaks the comparable rule (child not above its parent).
    const low = await createEntry(owner, {
      parent: chain[4]!.hash,
      comparable: chain[4]!.body.comparable,
      synod: null,
      payload: { type: 'public_note', text: 'low' },
    });

    const cases: [string, Hash, (out: string[]) => string[], string, string][] = [
      // A changed byte changes the hash, so a forged signature shows as a hash mismatch.
      ['forged entry', head(chain).hash, (out) => [out[0]!, forged(out[1]!), ...out.slice(2)], 'bad_entry', 'bad_hash'],
      ["another identity's entry as the head", other[2]!.hash, () => [other[2]!.text], 'bad_entry', 'wrong_identity'],
      ["another feed's entries", head(chain).hash, () => other.map((e) => e.text), 'bad_entry', 'bad_hash'],
      ['an entry skipped', head(chain).hash, (out) => [out[0]!, ...out.slice(2)], 'bad_entry', 'bad_hash'],
      ['comparable not rising', low.hash, () => [low.text, chain[4]!.text], 'bad_entry', 'broken_chain'],
      ['nothing', head(chain).hash, () => [], 'not_found', 'does not hold'],
      ['SQL as an entry', head(chain).hash, () => ["'; DROP TABLE leased_entries; --"], 'bad_entry', 'bad_'],
    ];
    for (const [what, from, tamper, code, says] of cases) {
      const o = await join(room, { keys: owner });
      const served = serveFeed(o, [...chain, low], (out) => tamper(out));
      const answer = await call(o, owner.identity, from);
      expect(answer, what).toMatchObject({ type: 'error', code });
      expect(answer.type === 'error' && answer.message, what).toContain(says);
      served.stop();
      await leaveAll([o]);
    }
    // A pull whose caller vanishes mid-way.
    const o = await join(room, { keys: owner });
    o.client.send({ type: 'call', id: 'gone', service: 'datalease', identity: owner.identity, head: head(chain).hash, seconds: 600 });
    await o.client.next('get_feed');
    await leaveAll([o]);
    // A pull whose caller refuses the room's get_feed ends at once, saying so (not after the answer wait).
    const r = await join(room, { keys: owner });
    r.client.send({ type: 'call', id: 'refuse', service: 'datalease', identity: owner.identity, head: head(chain).hash, seconds: 600 });
    const asked = await r.client.next('get_feed');
    r.client.send({ type: 'error', re: asked.id, code: 'forbidden', message: 'blocked' });
    const refused = await r.client.error('refuse');
    expect(refused.code).toBe('unavailable');
    expect(refused.message).toContain('refused get_feed');
    await leaveAll([r]);

    expect(await leaseRow(owner.identity)).toBeNull();
    expect(await committed(owner.identity)).toBe(0);
    const reader = await join(room);
    reader.client.send({ type: 'get_feed', id: 'g', identity: owner.identity, from: head(chain).hash, known: null, limit: 10 });
    expect((await reader.client.error('g')).code).toBe('not_found');
    reader.client.send({ type: 'iwant', id: 'w', hashes: chain.map((e) => e.hash) });
    expect((await reader.client.next('ihave', (m) => m.re === 'w')).blobs).toEqual([]);

    // The uncommitted rows of failed pulls go once their grace time is over; the pull lock is free again.
    await cleanup(env, Date.now() + HOSTED_LIMITS.orphanGraceMs + 1000);
    expect(await count('SELECT COUNT(*) AS n FROM leased_entries WHERE identity = ?', owner.identity)).toBe(0);
    const again = await join(room, { keys: owner });
    serveFeed(again, chain);
    expect((await call(again, owner.identity, head(chain).hash)).type).toBe('lease');
    await leaveAll([reader, again]);
  });

  it('enforces the holder and size quotas', async () => {
    const room = roomName('lease-quota');
    const owner = await generateKeyPair();
    const o = await join(room, { keys: owner });
    const chain = await chainOf(owner, 5);
    const server = serveFeed(o, chain);
    const now = Date.now();
    // The holder already holds the most leases it may.
    await env.DB.batch(
      Array.from({ length: Number(env.LEASES_PER_HOLDER) }, (_, i) =>
        env.DB.prepare(
          'INSERT INTO leases (identity, head, comparable, entries, bytes, holder, created_at, renewed_at, expires_at) VALUES (?, ?, 1, 1, 1, ?, ?, ?, ?)',
        ).bind(`@filler-${i}-${owner.identity}`, hashOf(utf8(`${i}`)), owner.identity, now, now, now + 1e6),
      ),
    );
    expect(await call(o, owner.identity, head(chain).hash)).toMatchObject({ type: 'error', code: 'quota' });
    await env.DB.prepare('DELETE FROM leases WHERE holder = ? AND identity != ?').bind(owner.identity, owner.identity).run();
    expect((await call(o, owner.identity, head(chain).hash)).type).toBe('lease');

    // A feed longer than a lease may hold.
    await env.DB.prepare('UPDATE leases SET entries = ? WHERE identity = ?')
      .bind(Number(env.LEASE_MAX_ENTRIES) - 1, owner.identity)
      .run();
    const more = await chainOf(owner, 2, { parent: head(chain) });
    for (const e of more) server.entries.set(e.hash, e);
    const over = await call(o, owner.identity, head(more).hash);
    expect(over).toMatchObject({ type: 'error', code: 'quota' });
    expect((await leaseRow(owner.identity))?.head).toBe(head(chain).hash);
    await leaveAll([o]);
  });

  it("keeps a leased collection whole: the directory's items are referenced too", async () => {
    const owner = await generateKeyPair();
    const files = [utf8('file one'), utf8('file two')];
    const sub = buildDirectory([{ name: 'two.txt', kind: 'file', blob: { hash: hashOf(files[1]!), size: files[1]!.length } }]);
    const root = buildDirectory([
      { name: 'one.txt', kind: 'file', blob: { hash: hashOf(files[0]!), size: files[0]!.length } },
      { name: 'sub', kind: 'directory', blob: sub.ref },
    ]);
    for (const b of [files[0]!, files[1]!, sub.bytes, root.bytes]) expect((await putBlob(owner, b)).status).toBe(201);
    const chain = await chainOf(owner, 2, {
      payloadOf: (i) => (i === 1 ? { type: 'collection', root: root.ref, name: 'stuff' } : { type: 'public_note', text: 'hi' }),
    });
    const o = await join(roomName('lease-collection'), { keys: owner });
    serveFeed(o, chain);
    expect((await call(o, owner.identity, head(chain).hash)).type).toBe('lease');
    const refs = await env.DB.prepare('SELECT hash FROM leased_refs WHERE identity = ? ORDER BY hash')
      .bind(owner.identity)
      .all<{ hash: string }>();
    expect(refs.results.map((r) => r.hash)).toEqual([root.ref.hash, sub.ref.hash, hashOf(files[0]!), hashOf(files[1]!)].sort());
    await leaveAll([o]);
  });

  it('an expired lease is served no more, and the cleanup removes it with its entries and unreferenced blobs', async () => {
    const owner = await generateKeyPair();
    const picture = bytesOf(5000, 21);
    expect((await putBlob(owner, picture)).status).toBe(201);
    const chain = await chainOf(owner, 30, {
      payloadOf: (i) =>
        i === 3
          ? { type: 'image', blob: { hash: hashOf(picture), size: picture.length }, mime: 'image/webp' }
          : { type: 'public_note', text: `${i}` },
    });
    const o = await join(roomName('lease-expire'), { keys: owner });
    serveFeed(o, chain);
    expect((await call(o, owner.identity, head(chain).hash)).type).toBe('lease');
    await leaveAll([o]);
    // Another lease that must survive the sweep untouched.
    const keeper = await generateKeyPair();
    const keptChain = await chainOf(keeper, 4);
    const k = await join(roomName('lease-expire'), { keys: keeper });
    serveFeed(k, keptChain);
    expect((await call(k, keeper.identity, head(keptChain).hash)).type).toBe('lease');

    const past = Date.now() - 1;
    await env.DB.prepare('UPDATE leases SET expires_at = ? WHERE identity = ?').bind(past, owner.identity).run();
    await env.DB.prepare('UPDATE blobs SET expires_at = ? WHERE hash = ?').bind(past, hashOf(picture)).run();
    const reader = await join(roomName('lease-expire'));
    reader.client.send({ type: 'get_feed', id: 'g', identity: owner.identity, from: head(chain).hash, known: null, limit: 5 });
    expect((await reader.client.error('g')).code).toBe('not_found');
    reader.client.send({ type: 'get_heads', id: 'h', identities: [owner.identity, keeper.identity] });
    expect((await reader.client.next('last_known_heads', (m) => m.re === 'h')).heads).toEqual([[keeper.identity, head(keptChain).hash]]);

    const report = await cleanup(env);
    expect(report.leases).toBeGreaterThanOrEqual(1);
    expect(await leaseRow(owner.identity)).toBeNull();
    expect(await count('SELECT COUNT(*) AS n FROM leased_entries WHERE identity = ?', owner.identity)).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM leased_refs WHERE identity = ?', owner.identity)).toBe(0);
    expect(await env.BLOBS.head(hashOf(picture))).toBeNull();
    // The live lease is whole.
    expect(await committed(keeper.identity)).toBe(4);
    expect(await fetchFeed(reader, keeper.identity, head(keptChain).hash)).toHaveLength(4);
    await leaveAll([reader, k]);
  });
});
