/**
 * The blobs service: in a room (iwant, getblob over the socket; leased
 * entries and get_feed are in datalease.test.ts), and over HTTP (signed
 * uploads, public downloads, cleanup).
 */
import { env, exports } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { fromBase64url, fromUtf8, generateKeyPair, hashOf, REQUEST_HEADERS, signRequest, utf8 } from '../../src/protocol/index.ts';
import { cleanup } from '../../src/server/hosted/cleanup.ts';
import { HOSTED_LIMITS } from '../../src/server/hosted/limits.ts';
import { blobUrl, bytesOf, count, errorOf, getBlobOverRoom, putBlob } from './hosted-helpers.ts';
import { entry, join, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

const keys = await generateKeyPair();
const put = (bytes: Uint8Array, opts?: Parameters<typeof putBlob>[2]) => putBlob(keys, bytes, opts);
const get = (hash: string, init?: RequestInit) => exports.default.fetch(blobUrl(hash), init);

describe('blobs in a room', { timeout: 20_000 }, () => {
  it('serves the head entries it holds as blobs (iwant → ihave, getblob → blob)', async () => {
    const room = roomName('blobs');
    const a = await join(room);
    const e = await entry(a.keys, 1000);
    a.client.send({ type: 'announce', entry: e.text });
    await a.client.next('ok');
    const missing = hashOf(utf8('nothing'));
    a.client.send({ type: 'iwant', id: 'w', hashes: [e.hash, missing] });
    expect((await a.client.next('ihave')).blobs).toEqual([[e.hash, e.size]]);
    a.client.send({ type: 'getblob', id: 'b', hash: e.hash, maxsize: 1 << 20 });
    const blob = await a.client.next('blob', (m) => m.re === 'b');
    expect(blob).toMatchObject({ hash: e.hash, offset: 0, total: e.size });
    const bytes = fromBase64url(blob.data);
    expect(bytes.ok && fromUtf8(bytes.value)).toBe(e.text);
    expect(bytes.ok && hashOf(bytes.value)).toBe(e.hash);
    a.client.send({ type: 'getblob', id: 'small', hash: e.hash, maxsize: 10 });
    expect((await a.client.error('small')).code).toBe('too_big');
    a.client.send({ type: 'getblob', id: 'nf', hash: missing, maxsize: 100 });
    expect((await a.client.error('nf')).code).toBe('not_found');
    a.client.close();
  });

  it('serves stored blobs over the socket in chunks of blobChunkBytes, every one with re', async () => {
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    const hash = hashOf(bytes);
    expect((await put(bytes)).status).toBe(201);
    const s = await join(roomName('blobs-r2'));
    s.client.send({ type: 'iwant', id: 'w', hashes: [hash] });
    expect((await s.client.next('ihave', (m) => m.re === 'w')).blobs).toEqual([[hash, bytes.length]]);
    expect(await getBlobOverRoom(s, hash)).toEqual(bytes);
    s.client.send({ type: 'getblob', id: 'c', hash, maxsize: bytes.length });
    const sizes: [number, number][] = [];
    for (let at = 0; at < bytes.length;) {
      const chunk = await s.client.next('blob', (m) => m.re === 'c');
      const data = fromBase64url(chunk.data);
      sizes.push([chunk.offset, data.ok ? data.value.length : -1]);
      at += data.ok ? data.value.length : bytes.length;
    }
    expect(sizes).toEqual([
      [0, 32768],
      [32768, 32768],
      [65536, 32768],
      [98304, 1696],
    ]);
    await expect(getBlobOverRoom(s, hash, bytes.length - 1)).rejects.toThrow(/^too_big/);
    s.client.close();
  });
});

describe('blob upload', { timeout: 20_000 }, () => {
  it('stores a signed upload under its hash, answers 201, then 200 for the same bytes again', async () => {
    const bytes = utf8('hello, blobs');
    const hash = hashOf(bytes);
    const res = await put(bytes);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ hash, size: bytes.length });
    const object = await env.BLOBS.get(hash);
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(bytes);
    const row = await env.DB.prepare('SELECT size, owner, expires_at FROM blobs WHERE hash = ?')
      .bind(hash)
      .first<{ size: number; owner: string; expires_at: number }>();
    expect(row?.size).toBe(bytes.length);
    expect(row?.owner).toBe(keys.identity);
    expect(row!.expires_at).toBeGreaterThan(Date.now() + HOSTED_LIMITS.blobGraceMs - 60_000);

    // Idempotent, for anyone: the owner stays the first uploader.
    const other = await generateKeyPair();
    const again = await putBlob(other, bytes);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ hash, size: bytes.length });
    expect(await count('SELECT COUNT(*) AS n FROM blobs WHERE hash = ? AND owner = ?', hash, keys.identity)).toBe(1);
  });

  it('streams a multi-part upload (over 8 MiB) through R2 multipart and serves it back whole', async () => {
    const bytes = bytesOf(HOSTED_LIMITS.partBytes + 1234, 7);
    const hash = hashOf(bytes);
    const res = await put(bytes);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ hash, size: bytes.length });
    const back = await get(hash);
    expect(back.status).toBe(200);
    expect(back.headers.get('Content-Length')).toBe(String(bytes.length));
    const got = new Uint8Array(await back.arrayBuffer());
    expect(got.length).toBe(bytes.length);
    expect(hashOf(got)).toBe(hash);
  }, 60_000);

  it('an empty blob is a blob', async () => {
    const empty = new Uint8Array(0);
    const res = await put(empty);
    expect(res.status).toBe(201);
    const back = await get(hashOf(empty));
    expect(back.status).toBe(200);
    expect((await back.arrayBuffer()).byteLength).toBe(0);
  });

  it('a body that does not hash to its name leaves no object and no row, small or multi-part', async () => {
    for (const size of [100, HOSTED_LIMITS.partBytes + 10]) {
      const claimed = hashOf(bytesOf(size, 99));
      const bytes = bytesOf(size, 100);
      const res = await put(bytes, { hash: claimed });
      expect(res.status).toBe(409);
      const error = await errorOf(res);
      expect(error.code).toBe('hash_mismatch');
      expect(error.message).toContain(hashOf(bytes));
      expect(await env.BLOBS.head(claimed)).toBeNull();
      expect(await count('SELECT COUNT(*) AS n FROM blobs WHERE hash = ?', claimed)).toBe(0);
      expect((await get(claimed)).status).toBe(404);
    }
  }, 60_000);

  it('a wrong upload never harms a blob already stored under the name', async () => {
    const bytes = utf8('precious');
    const hash = hashOf(bytes);
    expect((await put(bytes)).status).toBe(201);
    // Same length, other content: refused without reading (the name is held), and the object is intact.
    const res = await put(utf8('imposter'), { hash });
    expect(res.status).toBe(200);
    const res2 = await put(utf8('longer imposter'), { hash });
    expect(res2.status).toBe(409);
    expect(new Uint8Array(await (await get(hash)).arrayBuffer())).toEqual(bytes);
  });

  it('refuses unsigned, forged, stale and malformed requests with a clear code, storing nothing', async () => {
    const bytes = utf8('signed or nothing');
    const hash = hashOf(bytes);
    const signed = await signRequest(keys, { method: 'PUT', path: `/api/blobs/${hash}`, time: Date.now(), length: bytes.length });
    const send = (headers: Record<string, string>, url = blobUrl(hash)) =>
      exports.default.fetch(url, { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer>, headers });

    const cases: [string, Promise<Response>, number, string][] = [
      ['no headers', send({}), 401, 'unsigned'],
      ['no signature', send({ ...signed, [REQUEST_HEADERS.signature]: '' }), 401, 'unsigned'],
      ['SQL in the identity', send({ ...signed, [REQUEST_HEADERS.identity]: "'; DROP TABLE blobs; --" }), 400, 'bad_identity'],
      ['SQL in the time', send({ ...signed, [REQUEST_HEADERS.time]: "1' OR '1'='1" }), 400, 'bad_time'],
      ['SQL in the signature', send({ ...signed, [REQUEST_HEADERS.signature]: "'; DROP TABLE blobs; --" }), 401, 'bad_signature'],
      ['another identity', send({ ...signed, [REQUEST_HEADERS.identity]: (await generateKeyPair()).identity }), 401, 'bad_signature'],
      ['a forged signature', send({ ...signed, [REQUEST_HEADERS.signature]: 'A'.repeat(86) }), 401, 'bad_signature'],
      ['another time', send({ ...signed, [REQUEST_HEADERS.time]: String(Number(signed[REQUEST_HEADERS.time]) + 1) }), 401, 'bad_signature'],
      ['a bad hash in the path', send(signed, `${blobUrl(hash).slice(0, -3)}`), 400, 'bad_hash'],
      ['SQL in the path', send(signed, blobUrl("'; DROP TABLE blobs; --")), 400, 'bad_hash'],
    ];
    for (const [what, response, status, code] of cases) {
      const res = await response;
      expect(res.status, what).toBe(status);
      const error = await errorOf(res);
      expect(error.code, what).toBe(code);
      expect(error.message.length, what).toBeGreaterThan(10);
    }
    // A signature over another length (the body is then not what was signed).
    const res = await put(bytes, { signedLength: bytes.length + 1 });
    expect(res.status).toBe(401);
    // Stale or future times.
    for (const time of [Date.now() - 6 * 60_000, Date.now() + 6 * 60_000]) {
      const stale = await put(bytes, { time });
      expect(stale.status).toBe(401);
      expect((await errorOf(stale)).code).toBe('stale_request');
    }
    expect(await env.BLOBS.head(hash)).toBeNull();
    expect(await count('SELECT COUNT(*) AS n FROM blobs WHERE hash = ?', hash)).toBe(0);
    // The tables are all still there.
    expect(await count("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('blobs', 'drops', 'leases')")).toBe(3);
  });

  it('needs a Content-Length and refuses one over MAX_BLOB_BYTES before reading the body', async () => {
    const stream = () => new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(utf8('abc')), c.close()) });
    const hash = hashOf(utf8('abc'));
    const signed = await signRequest(keys, { method: 'PUT', path: `/api/blobs/${hash}`, time: Date.now(), length: 3 });
    const chunked = await exports.default.fetch(blobUrl(hash), { method: 'PUT', body: stream(), headers: signed });
    expect(chunked.status).toBe(411);
    expect((await errorOf(chunked)).code).toBe('length_required');

    const max = Number(env.MAX_BLOB_BYTES);
    const huge = max + 1;
    const bigHash = hashOf(utf8('not really'));
    const bigSigned = await signRequest(keys, { method: 'PUT', path: `/api/blobs/${bigHash}`, time: Date.now(), length: huge });
    const body = new FixedLengthStream(huge);
    const writer = body.writable.getWriter();
    void writer.write(new Uint8Array(16)).catch(() => {});
    const res = await exports.default.fetch(blobUrl(bigHash), { method: 'PUT', body: body.readable, headers: bigSigned });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('too_big');
    void writer.abort().catch(() => {});
    expect(await env.BLOBS.head(bigHash)).toBeNull();
  });

  it("counts uploads against the uploader's quota (429 once full)", async () => {
    const uploader = await generateKeyPair();
    await env.DB.prepare('INSERT INTO blobs (hash, size, owner, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .bind(
        hashOf(utf8(`filler ${uploader.identity}`)),
        Number(env.BLOB_BYTES_PER_IDENTITY) - 10,
        uploader.identity,
        Date.now(),
        Date.now() + 1e9,
      )
      .run();
    expect((await putBlob(uploader, utf8('0123456789'))).status).toBe(201);
    const res = await putBlob(uploader, utf8('one byte too many'));
    expect(res.status).toBe(429);
    const error = await errorOf(res);
    expect(error.code).toBe('quota');
    expect(error.message).toContain('this identity stores');
  });
});

describe('blob download', () => {
  const bytes = bytesOf(1000, 3);
  const hash = hashOf(bytes);

  it('HEAD answers the size; GET the bytes, immutable, never as a page', async () => {
    expect((await put(bytes)).status).toBeLessThan(300);
    const head = await get(hash, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('Content-Length')).toBe('1000');
    expect(head.headers.get('Accept-Ranges')).toBe('bytes');
    const res = await get(hash);
    expect(res.headers.get('Content-Type')).toBe('application/octet-stream');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('Content-Security-Policy')).toContain('sandbox');
    expect(res.headers.get('ETag')).toBe(`"${hash}"`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    // The hash may travel unencoded too.
    const raw = await exports.default.fetch(`https://effigy.test/api/blobs/${hash}`);
    expect(raw.status).toBe(200);
    await raw.arrayBuffer();
    const cached = await get(hash, { headers: { 'If-None-Match': `"${hash}"` } });
    expect(cached.status).toBe(304);
    expect((await get(hashOf(utf8('never uploaded')))).status).toBe(404);
    const del = await get(hash, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect((await errorOf(del)).code).toBe('method_not_allowed');
    expect(await env.BLOBS.head(hash)).not.toBeNull();
  });

  it('serves single byte ranges with 206 and Content-Range', async () => {
    const cases: [string, number, number][] = [
      ['bytes=0-9', 0, 10],
      ['bytes=990-', 990, 10],
      ['bytes=-5', 995, 5],
      ['bytes=500-500', 500, 1],
      ['bytes=900-5000', 900, 100],
      ['bytes=-5000', 0, 1000],
    ];
    for (const [range, offset, length] of cases) {
      const res = await get(hash, { headers: { Range: range } });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('Content-Range'), range).toBe(`bytes ${offset}-${offset + length - 1}/1000`);
      expect(res.headers.get('Content-Length'), range).toBe(String(length));
      expect(new Uint8Array(await res.arrayBuffer()), range).toEqual(bytes.subarray(offset, offset + length));
    }
    const head = await get(hash, { method: 'HEAD', headers: { Range: 'bytes=0-9' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('Content-Length')).toBe('10');
  });

  it('answers 416 for a range it cannot satisfy or parse', async () => {
    for (const range of [
      'bytes=1000-',
      'bytes=5-3',
      'bytes=-0',
      'bytes=0-1,5-6',
      'items=0-1',
      'bytes=x-y',
      'bytes=-',
      "bytes=1'; DROP TABLE blobs; --",
    ]) {
      const res = await get(hash, { headers: { Range: range } });
      expect(res.status, range).toBe(416);
      expect(res.headers.get('Content-Range'), range).toBe('bytes */1000');
      expect((await errorOf(res)).code, range).toBe('bad_range');
    }
  });

  it('allows cross-origin use (signed requests carry no cookies)', async () => {
    const pre = await get(hash, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://elsewhere.example',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'effigy-signature',
      },
    });
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(pre.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain('effigy-signature');
    const res = await get(hash, { headers: { Origin: 'https://elsewhere.example' } });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    await res.arrayBuffer();
  });
});

describe('blob cleanup', () => {
  it('deletes blobs past their grace time that no live lease references, and only those', async () => {
    const now = Date.now();
    const kept = utf8('kept: still in grace');
    const leased = utf8('kept: a live lease references it');
    const gone = utf8('gone: expired, unreferenced');
    const staleLease = utf8('gone: only an expired lease references it');
    for (const b of [kept, leased, gone, staleLease]) expect((await put(b)).status).toBeLessThan(300);
    const past = now - 1000;
    for (const b of [leased, gone, staleLease])
      await env.DB.prepare('UPDATE blobs SET expires_at = ? WHERE hash = ?').bind(past, hashOf(b)).run();
    const live = (await generateKeyPair()).identity;
    const dead = (await generateKeyPair()).identity;
    await env.DB.batch([
      env.DB.prepare(
        'INSERT INTO leases (identity, head, comparable, entries, bytes, holder, created_at, renewed_at, expires_at) VALUES (?, ?, 1, 0, 0, ?, ?, ?, ?)',
      ).bind(live, hashOf(utf8('h1')), live, now, now, now + 1e6),
      env.DB.prepare(
        'INSERT INTO leases (identity, head, comparable, entries, bytes, holder, created_at, renewed_at, expires_at) VALUES (?, ?, 1, 0, 0, ?, ?, ?, ?)',
      ).bind(dead, hashOf(utf8('h2')), dead, now, now, past),
      env.DB.prepare(
        "INSERT INTO leased_entries (hash, identity, parent, comparable, synod, size, text, stored_at) VALUES (?, ?, NULL, 1, NULL, 1, 'x', ?)",
      ).bind(hashOf(utf8('e1')), live, now),
      env.DB.prepare("INSERT INTO leased_refs (identity, entry, hash, kind) VALUES (?, ?, ?, 'file')").bind(
        live,
        hashOf(utf8('e1')),
        hashOf(leased),
      ),
      env.DB.prepare("INSERT INTO leased_refs (identity, entry, hash, kind) VALUES (?, ?, ?, 'file')").bind(
        dead,
        hashOf(utf8('e2')),
        hashOf(staleLease),
      ),
    ]);
    const report = await cleanup(env, now);
    expect(report.blobs).toBe(2);
    for (const b of [kept, leased]) {
      expect(await env.BLOBS.head(hashOf(b))).not.toBeNull();
      expect(await count('SELECT COUNT(*) AS n FROM blobs WHERE hash = ?', hashOf(b))).toBe(1);
    }
    for (const b of [gone, staleLease]) {
      expect(await env.BLOBS.head(hashOf(b))).toBeNull();
      expect(await count('SELECT COUNT(*) AS n FROM blobs WHERE hash = ?', hashOf(b))).toBe(0);
    }
  });
});
