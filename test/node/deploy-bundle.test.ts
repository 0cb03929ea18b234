/**
 * Code that works locally but not deployed (PartyKit's fourth failure,
 * issue 14): the exact bundle `wrangler deploy --dry-run` writes, started
 * in Miniflare (the `miniflare` package, workerd underneath) with the
 * bindings wrangler.toml declares, and a handshake, a relay and a drop
 * against it. Nothing of the source tree is loaded by the Worker: only the
 * bundle's files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Log, LogLevel, Miniflare, Response as MiniflareResponse } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import { canonicalEndpoint, createEntry, generateKeyPair, seal, utf8, type KeyPair, type Service } from '../../src/protocol/index.ts';
import { allow, handshake, RoomClient, type Session } from '../support/room-client.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const WRANGLER = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js');
const out = mkdtempSync(join(tmpdir(), 'effigy-dry-run-'));
let mf: Miniflare;
let base: URL;
const sessions: Session[] = [];

beforeAll(async () => {
  const built = spawnSync(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', out], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' },
  });
  if (built.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${built.stdout}\n${built.stderr}`);
  const config = unstable_readConfig({ config: join(ROOT, 'wrangler.toml') });
  const vars = Object.fromEntries(Object.entries(config.vars).map(([k, v]) => [k, String(v)]));
  const files = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(js|mjs|wasm)$/.test(f));
  const main = files.find((f) => f === 'index.js');
  if (!main) throw new Error(`no index.js in ${out}: ${files.join(', ')}`);
  // Every file of the bundle, as the deploy uploads them; the bindings wrangler.toml declares.
  const modules = Object.fromEntries(
    files.map((f) => [
      f,
      f.endsWith('.wasm')
        ? { type: 'wasm' as const, contents: new Uint8Array(readFileSync(join(out, f))) }
        : { type: 'esm' as const, contents: readFileSync(join(out, f), 'utf8') },
    ]),
  );
  mf = new Miniflare({
    log: new Log(LogLevel.WARN),
    workers: [
      {
        config: {
          name: 'effigy',
          compatibilityDate: config.compatibility_date!,
          compatibilityFlags: config.compatibility_flags,
          manifest: { mainModule: main, modules },
          exports: { Room: { type: 'durable-object', storage: 'sqlite' } },
          env: {
            ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, { type: 'text' as const, value: v }])),
            ROOM: { type: 'durable-object', worker: 'effigy', exportName: 'Room' },
            DB: { type: 'd1', id: 'effigy-dry-run' },
            BLOBS: { type: 'r2', name: 'effigy-dry-run' },
            ASSETS: { type: 'fetcher', handler: () => new MiniflareResponse('no assets in this test', { status: 404 }) },
          },
        },
      },
    ],
  });
  base = await mf.ready;
  // The D1 schema, as `wrangler d1 migrations apply` would lay it down.
  const db = await mf.getD1Database('DB');
  for (const file of readdirSync(join(ROOT, 'migrations')).sort()) {
    const sql = readFileSync(join(ROOT, 'migrations', file), 'utf8').replace(/--.*$/gm, '');
    for (const statement of sql
      .split(/;\s*$/m)
      .map((s) => s.trim())
      .filter(Boolean))
      await db.prepare(statement).run();
  }
}, 180_000);

afterAll(async () => {
  for (const s of sessions) s.client.close();
  await Promise.all(sessions.map((s) => Promise.race([s.client.closed, new Promise((r) => setTimeout(r, 2000))])));
  await mf?.dispose();
  rmSync(out, { recursive: true, force: true });
}, 30_000);

async function dial(room: string, keys?: KeyPair, request: readonly Service[] = []): Promise<Session> {
  const k = keys ?? (await generateKeyPair());
  const url = `${base.href.replace(/^http/, 'ws').replace(/\/$/, '')}/room/${room}?identity=${k.identity}`;
  const ws = new WebSocket(url);
  const client = new RoomClient(ws);
  await new Promise<void>((ok, fail) => {
    ws.addEventListener('open', () => ok(), { once: true });
    ws.addEventListener('error', () => fail(new Error(`cannot dial ${url}`)), { once: true });
  });
  const s = await handshake(client, canonicalEndpoint(url), { keys: k, request });
  sessions.push(s);
  return s;
}

describe('the deploy bundle (wrangler deploy --dry-run) in Miniflare', () => {
  it('holds a handshake, and grants a service on request (the dropbox is not offered until asked)', async () => {
    const s = await dial('bundle');
    expect(s.services).toEqual(expect.arrayContaining(['signalling', 'headtracking']));
    expect(s.services).not.toContain('dropbox');
    const asked = await dial('bundle', undefined, ['dropbox']);
    expect(asked.services).toContain('dropbox');
  });

  it('relays a message between two sockets (room main: eight shards)', async () => {
    const a = await dial('main');
    const b = await dial('main');
    await allow(b.client, [a.identity]);
    a.client.send({ type: 'message_to', id: 'm', to: b.identity, payload: { hello: 'bundle' } });
    expect((await b.client.next('message_from')).payload).toEqual({ hello: 'bundle' });
    expect((await a.client.answer('m')).type).toBe('ok');
  });

  it('stores a drop in D1 and hands it to its target', async () => {
    const sender = await dial('bundle-drop');
    const target = await generateKeyPair();
    const { envelope } = seal(utf8('hello from a stranger'), { author: sender.identity, kind: 'drop', readers: [target.identity] });
    const entry = await createEntry(sender.keys, {
      parent: null,
      comparable: Date.now(),
      synod: null,
      payload: { type: 'private_note', envelope },
    });
    sender.client.send({ type: 'drop', id: 'd', target: target.identity, sender: sender.identity, entry: entry.text });
    expect(await sender.client.answer('d')).toEqual({ type: 'ok', re: 'd' });
    const t = await dial('bundle-elsewhere', target, ['dropbox']);
    const notice = await t.client.next('drops');
    expect(notice.drops.map((d) => d.hash)).toEqual([entry.hash]);
  });
});
