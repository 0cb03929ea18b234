import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createEntry,
  generateKeyPair,
  hashOf,
  LIMITS,
  openEntry,
  utf8,
  type Entry,
  type Hash,
  type Identity,
} from '../../src/protocol/index.ts';
import { cleanup } from '../../src/server/hosted/cleanup.ts';
import { HOSTED_LIMITS } from '../../src/server/hosted/limits.ts';
import worker from '../../src/server/index.ts';
import { count, serveFeed } from './hosted-helpers.ts';
import { announce, claiming, drop, fillDrops, makeDrop, rowsFor, synodFeed } from './dropbox-helpers.ts';
import { join, leaveAll, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

describe('dropbox', { timeout: 20_000 }, () => {
  it('store → deliver → ack → gone, across rooms', async () => {
    const sender = await join(roomName('drop-send'));
    const target = await generateKeyPair();
    const entry = await makeDrop(sender.keys, [target.identity]);
    expect(await drop(sender, target.identity, entry)).toEqual({ type: 'ok', re: expect.any(String) });
    const row = await env.DB.prepare('SELECT target, sender, size, created_at, expires_at, entry FROM drops WHERE hash = ?')
      .bind(entry.hash)
      .first<Record<string, unknown>>();
    expect(row).toMatchObject({ target: target.identity, sender: sender.identity, size: entry.size, entry: entry.text });
    const ttl = Number(env.DROPBOX_TTL_DAYS) * 24 * 3600_000;
    expect((row!.expires_at as number) - (row!.created_at as number)).toBe(ttl);

    // The target connects somewhere else (drops live in D1, not in one room).
    const t = await join(roomName('drop-recv'), { keys: target });
    expect(t.services).toEqual(expect.arrayContaining(['dropbox', 'datalease']));
    const notice = await t.client.next('drops');
    expect(notice.drops).toEqual([
      { hash: entry.hash, target: target.identity, sender: sender.identity, size: entry.size, expires: row!.expires_at },
    ]);

    t.client.send({ type: 'fetch_drops', id: 'f', hashes: [entry.hash] });
    const delivery = await t.client.next('drop_delivery', (m) => m.re === 'f');
    expect(delivery.drops).toEqual([{ hash: entry.hash, target: target.identity, entry: entry.text }]);
    expect((await openEntry(delivery.drops[0]!.entry, { hash: entry.hash })).ok).toBe(true);

    t.client.send({ type: 'drop_ack', id: 'a', hashes: [entry.hash] });
    await t.client.next('ok', (m) => m.re === 'a');
    expect(await rowsFor(target.identity)).toBe(0);

    // Gone: the next connect's notice (one frame of all that waits) names only a newer drop.
    await leaveAll([t]);
    const newer = await makeDrop(sender.keys, [target.identity], 'newer');
    expect((await drop(sender, target.identity, newer)).type).toBe('ok');
    const again = await join(roomName('drop-recv'), { keys: target });
    expect((await again.client.next('drops')).drops.map((d) => d.hash)).toEqual([newer.hash]);
    await leaveAll([sender, again]);
  });

  it('a disconnect mid-delivery loses nothing: unacknowledged drops are announced again', async () => {
    const room = roomName('drop-redeliver');
    const sender = await join(room);
    const target = await generateKeyPair();
    const entries = [await makeDrop(sender.keys, [target.identity], 'one'), await makeDrop(sender.keys, [target.identity], 'two')];
    for (const e of entries) expect((await drop(sender, target.identity, e)).type).toBe('ok');

    const first = await join(room, { keys: target });
    expect((await first.client.next('drops')).drops.map((d) => d.hash).sort()).toEqual(entries.map((e) => e.hash).sort());
    first.client.send({ type: 'fetch_drops', id: 'f1', hashes: entries.map((e) => e.hash) });
    expect((await first.client.next('drop_delivery')).drops).toHaveLength(2);
    // Acknowledges one, then the connection drops.
    first.client.send({ type: 'drop_ack', id: 'a1', hashes: [entries[0]!.hash] });
    await first.client.next('ok', (m) => m.re === 'a1');
    await leaveAll([first]);

    const second = await join(room, { keys: target });
    const notice = await second.client.next('drops');
    expect(notice.drops.map((d) => d.hash)).toEqual([entries[1]!.hash]);
    second.client.send({ type: 'fetch_drops', id: 'f2', hashes: [entries[0]!.hash, entries[1]!.hash] });
    expect((await second.client.next('drop_delivery')).drops.map((d) => d.hash)).toEqual([entries[1]!.hash]);
    await leaveAll([sender, second]);
  });

  it('tells a target that is present at once, and stores the same drop once', async () => {
    const room = roomName('drop-live');
    const sender = await join(room);
    const target = await join(room);
    const entry = await makeDrop(sender.keys, [target.identity]);
    expect((await drop(sender, target.identity, entry)).type).toBe('ok');
    const notice = await target.client.next('drops');
    expect(notice.drops[0]?.hash).toBe(entry.hash);
    // Again (a retry after a lost ok): still ok, still one row.
    expect((await drop(sender, target.identity, entry)).type).toBe('ok');
    expect(await count('SELECT COUNT(*) AS n FROM drops WHERE hash = ?', entry.hash)).toBe(1);
    // The same entry for another target is refused: a drop has one target.
    const other = (await generateKeyPair()).identity;
    const refused = await drop(sender, other, entry);
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await rowsFor(other)).toBe(0);
    await leaveAll([sender, target]);
  });

  it("a device collects its synod's drops, shown by the synod's own chain; nobody else can fetch or acknowledge them", async () => {
    const room = roomName('drop-synod');
    const synod = await generateKeyPair();
    const device = await generateKeyPair();
    const chain = await synodFeed(synod, [device]);
    const sender = await join(room);
    const stranger = await join(room);
    const entry = await makeDrop(sender.keys, [synod.identity, device.identity]);
    expect((await drop(sender, synod.identity, entry)).type).toBe('ok');

    // The stranger is not the target and claims no synod: no notice, nothing delivered, ack ignored.
    stranger.client.send({ type: 'fetch_drops', id: 'sf', hashes: [entry.hash] });
    expect((await stranger.client.next('drop_delivery', (m) => m.re === 'sf')).drops).toEqual([]);
    stranger.client.send({ type: 'drop_ack', id: 'sa', hashes: [entry.hash] });
    await stranger.client.next('ok', (m) => m.re === 'sa');
    expect(await rowsFor(synod.identity)).toBe(1);

    // The device joins, announces a head that claims the synod, and reconnects serving its synod's
    // chain: the room asks for it (get_feed), finds the synod's add_device, and the synod's drops are its.
    const d1 = await join(room, { keys: device });
    expect((await announce(d1, await claiming(device, synod.identity, chain.at(-1)!.hash))).type).toBe('ok');
    await leaveAll([d1]);
    const d2 = await join(room, { keys: device });
    const shown = serveFeed(d2, chain);
    const notice = await d2.client.next('drops', undefined, 10_000);
    expect(notice.drops).toEqual([expect.objectContaining({ hash: entry.hash, target: synod.identity })]);
    expect(shown.asked[0]).toMatchObject({ identity: synod.identity, from: chain.at(-1)!.hash, known: null });
    d2.client.send({ type: 'fetch_drops', id: 'df', hashes: [entry.hash] });
    expect((await d2.client.next('drop_delivery', (m) => m.re === 'df')).drops[0]?.target).toBe(synod.identity);

    // A new drop for the synod reaches the present device at once.
    const second = await makeDrop(sender.keys, [synod.identity], 'again');
    expect((await drop(sender, synod.identity, second)).type).toBe('ok');
    expect((await d2.client.next('drops')).drops[0]?.hash).toBe(second.hash);

    d2.client.send({ type: 'drop_ack', id: 'da', hashes: [entry.hash, second.hash] });
    await d2.client.next('ok', (m) => m.re === 'da');
    expect(await rowsFor(synod.identity)).toBe(0);
    await leaveAll([sender, stranger, d2]);
  });

  it('refuses invalid entries with bad_entry and stores nothing', async () => {
    const room = roomName('drop-bad');
    const s = await join(room);
    const target = (await generateKeyPair()).identity;
    const good = await makeDrop(s.keys, [target]);
    const other = await generateKeyPair();

    const forged = good.text.slice(0, -2) + (good.text.endsWith('AA') ? 'BA' : 'AA');
    const cases: [string, string, Identity, string][] = [
      ['forged signature', forged, s.identity, 'bad_signature'],
      ['sender is not the signer', good.text, other.identity, 'wrong_identity'],
      ['not an entry', "'; DROP TABLE drops; --", s.identity, 'bad_encoding'],
    ];
    // Over 15 KiB in UTF-8 while under 15360 characters: the size is checked in bytes.
    const wide = await createEntry(s.keys, { parent: null, comparable: 1, synod: null, payload: { type: 'public_note', text: 'x' } }).catch(
      () => null,
    );
    expect(wide).not.toBeNull();
    const padded = wide!.text.replace('"text":"x"', `"text":"${'é'.repeat(7700)}"`);
    cases.push(['over 15 KiB in UTF-8', padded, s.identity, 'too_big']);

    for (const [what, text, sender, code] of cases) {
      const id = `bad-${what}`;
      s.client.send({ type: 'drop', id, target, sender, entry: text });
      const err = await s.client.error(id);
      expect(err.code, what).toBe('bad_entry');
      expect(err.message, what).toContain(code);
    }
    expect(await rowsFor(target)).toBe(0);
    await leaveAll([s]);
  });

  it('treats SQL metacharacters as data: refused where the schema says no, stored verbatim where text is free', async () => {
    const room = roomName('drop-sql');
    const s = await join(room);
    const target = await generateKeyPair();
    // Identities and hashes are schema-checked before any handler runs.
    s.client.send({ type: 'drop', id: 'q1', target: "'; DROP TABLE drops; --", sender: s.identity, entry: 'x' } as Record<string, unknown>);
    expect((await s.client.error('q1')).code).toBe('bad_schema');
    s.client.send({ type: 'fetch_drops', id: 'q2', hashes: ["' OR 1=1 --"] } as Record<string, unknown>);
    expect((await s.client.error('q2')).code).toBe('bad_schema');
    s.client.send({ type: 'drop_ack', id: 'q3', hashes: ["') OR ('1'='1"] } as Record<string, unknown>);
    expect((await s.client.error('q3')).code).toBe('bad_schema');
    // Free text inside a valid entry travels and returns byte for byte.
    const evil = "Robert'); DROP TABLE drops; -- \" ; DELETE FROM leases; \\' %_";
    const entry = await createEntry(s.keys, { parent: null, comparable: 1, synod: null, payload: { type: 'public_note', text: evil } });
    expect((await drop(s, target.identity, entry)).type).toBe('ok');
    const t = await join(room, { keys: target });
    await t.client.next('drops');
    t.client.send({ type: 'fetch_drops', id: 'f', hashes: [entry.hash] });
    expect((await t.client.next('drop_delivery')).drops[0]?.entry).toBe(entry.text);
    expect(await count("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('drops', 'leases')")).toBe(2);
    await leaveAll([s, t]);
  });

  it("enforces the per-target and per-sender quotas (count and bytes), naming only what is the sender's own", async () => {
    const room = roomName('drop-quota');
    const s = await join(room);
    const someone = async () => (await generateKeyPair()).identity;
    const L = HOSTED_LIMITS;
    const full = "this target's dropbox cannot take more drops now";
    const cases: [string, (target: Identity, sender: Identity) => Promise<unknown>, string][] = [
      ['target count', async (t) => fillDrops(t, await someone(), L.dropsPerTarget), full],
      ['target bytes', async (t) => fillDrops(t, await someone(), 2, L.dropBytesPerTarget / 2), full],
      [
        'sender count',
        async (_t, sender) => fillDrops(await someone(), sender, L.dropsPerSender),
        'this identity has its most drops waiting here',
      ],
      [
        'sender bytes',
        async (_t, sender) => fillDrops(await someone(), sender, 1, L.dropBytesPerSender - 10),
        'this identity has its most drops waiting here',
      ],
      ['sender for one target', (t, sender) => fillDrops(t, sender, L.dropsPerSenderPerTarget), 'its most drops waiting for this target'],
    ];
    for (const [what, fill, says] of cases) {
      const sender = await join(room);
      const target = (await generateKeyPair()).identity;
      await fill(target, sender.identity);
      const before = await count('SELECT COUNT(*) AS n FROM drops');
      const answer = await drop(sender, target, await makeDrop(sender.keys, [target]));
      expect(answer, what).toMatchObject({ type: 'error', code: 'quota' });
      expect(answer.type === 'error' && answer.message, what).toContain(says);
      expect(await count('SELECT COUNT(*) AS n FROM drops'), what).toBe(before);
      await leaveAll([sender]);
    }
    // Expired rows do not count against anyone.
    const target = (await generateKeyPair()).identity;
    await env.DB.prepare("INSERT INTO drops (hash, target, sender, entry, size, created_at, expires_at) VALUES (?, ?, 'x', 'x', ?, 1, 2)")
      .bind(hashOf(utf8(`old ${target}`)), target, L.dropBytesPerTarget)
      .run();
    expect((await drop(s, target, await makeDrop(s.keys, [target]))).type).toBe('ok');
    await leaveAll([s]);
  });

  it('announces at most dropNotices per frame, and packs delivery under the frame limit', async () => {
    const room = roomName('drop-many');
    const target = await generateKeyPair();
    const senders = await Promise.all(Array.from({ length: 3 }, () => generateKeyPair()));
    const entries: Entry[] = [];
    const now = Date.now();
    // 210 drops (more than the quota lets in, as after a quota change), the first 20 of ~10 KiB, straight into D1.
    for (let i = 0; i < 210; i++) {
      const keys = senders[i % 3]!;
      const text = i < 20 ? `${i} ${'x'.repeat(9000)}` : `${i}`;
      entries.push(await createEntry(keys, { parent: null, comparable: i + 1, synod: null, payload: { type: 'public_note', text } }));
    }
    for (let i = 0; i < entries.length; i += 50) {
      await env.DB.batch(
        entries
          .slice(i, i + 50)
          .map((e, j) =>
            env.DB.prepare(
              'INSERT INTO drops (hash, target, sender, entry, size, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
            ).bind(e.hash, target.identity, e.body.identity, e.text, e.size, now + i + j, now + 1e9),
          ),
      );
    }
    const t = await join(room, { keys: target });
    const first = await t.client.next('drops');
    const second = await t.client.next('drops');
    expect(first.drops).toHaveLength(LIMITS.dropNotices);
    expect(second.drops).toHaveLength(210 - LIMITS.dropNotices);
    const all = [...first.drops, ...second.drops].map((d) => d.hash);
    // Ask for 20 at once (~200 KiB): one frame under 64 KiB comes back, in order; the rest on the next ask.
    t.client.send({ type: 'fetch_drops', id: 'big', hashes: all.slice(0, 20) });
    const delivery = await t.client.next('drop_delivery', (m) => m.re === 'big');
    expect(delivery.drops.length).toBeGreaterThan(0);
    expect(delivery.drops.length).toBeLessThan(20);
    expect(delivery.drops.map((d) => d.hash)).toEqual(all.slice(0, delivery.drops.length));
    expect(t.client.invalid).toEqual([]);
    await leaveAll([t]);
  });
});

describe('dropbox cleanup', { timeout: 20_000 }, () => {
  it('the scheduled handler deletes exactly the expired drops, in bounded batches', async () => {
    const now = Date.now();
    const target = (await generateKeyPair()).identity;
    const rows: [Hash, number][] = [];
    // 1,100 expired rows (more than two batches), the boundary, and rows that must stay.
    for (let i = 0; i < 1100; i++) rows.push([hashOf(utf8(`expired ${target} ${i}`)), now - 1000 - i]);
    const boundary = hashOf(utf8(`boundary ${target}`));
    const keep = [hashOf(utf8(`keep ${target} 1`)), hashOf(utf8(`keep ${target} 2`))];
    for (let i = 0; i < rows.length; i += 100) {
      await env.DB.batch(
        rows
          .slice(i, i + 100)
          .map(([hash, expires]) =>
            env.DB.prepare(
              "INSERT INTO drops (hash, target, sender, entry, size, created_at, expires_at) VALUES (?, ?, 'x', 'x', 1, 0, ?)",
            ).bind(hash, target, expires),
          ),
      );
    }
    await env.DB.batch([
      env.DB.prepare("INSERT INTO drops (hash, target, sender, entry, size, created_at, expires_at) VALUES (?, ?, 'x', 'x', 1, 0, ?)").bind(
        keep[0],
        target,
        now + 60_000,
      ),
      env.DB.prepare("INSERT INTO drops (hash, target, sender, entry, size, created_at, expires_at) VALUES (?, ?, 'x', 'x', 1, 0, ?)").bind(
        keep[1],
        target,
        now + 3_600_000,
      ),
    ]);
    // A bounded run: with two rounds of 500 it leaves the rest for the next run.
    const { cleanupRounds, cleanupBatch } = HOSTED_LIMITS;
    expect(cleanupRounds * cleanupBatch).toBeGreaterThanOrEqual(1100);
    const report = await cleanup(env, now);
    expect(report.drops).toBeGreaterThanOrEqual(1100);
    expect(await rowsFor(target)).toBe(2);

    // Through the Worker's scheduled handler, at the real clock: a row expiring now goes, later ones stay.
    await env.DB.prepare("INSERT INTO drops (hash, target, sender, entry, size, created_at, expires_at) VALUES (?, ?, 'x', 'x', 1, 0, ?)")
      .bind(boundary, target, Date.now())
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/15 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    const left = await env.DB.prepare('SELECT hash FROM drops WHERE target = ? ORDER BY expires_at').bind(target).all<{ hash: string }>();
    expect(left.results.map((r) => r.hash)).toEqual(keep);
  });

  it('expired drops are neither announced nor delivered before the sweep', async () => {
    const room = roomName('drop-expired');
    const target = await generateKeyPair();
    const sender = await generateKeyPair();
    const entry = await makeDrop(sender, [target.identity]);
    await env.DB.prepare('INSERT INTO drops (hash, target, sender, entry, size, created_at, expires_at) VALUES (?, ?, ?, ?, ?, 0, ?)')
      .bind(entry.hash, target.identity, sender.identity, entry.text, entry.size, Date.now() - 1)
      .run();
    // A live drop beside it, so the join brings a notice: it names the live one only.
    const live = await makeDrop(sender, [target.identity], 'live');
    const s0 = await join(room, { keys: sender });
    expect((await drop(s0, target.identity, live)).type).toBe('ok');
    await leaveAll([s0]);
    const t = await join(room, { keys: target });
    expect((await t.client.next('drops')).drops.map((d) => d.hash)).toEqual([live.hash]);
    t.client.send({ type: 'fetch_drops', id: 'f', hashes: [entry.hash] });
    expect((await t.client.next('drop_delivery')).drops).toEqual([]);
    // Dropped again, it starts afresh.
    const s = await join(room, { keys: sender });
    expect((await drop(s, target.identity, entry)).type).toBe('ok');
    expect((await t.client.next('drops')).drops[0]?.hash).toBe(entry.hash);
    await leaveAll([t, s]);
  });
});
