import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/server/index.ts';

const BASE = 'https://effigy.test';
const get = (path: string, init?: RequestInit) => exports.default.fetch(`${BASE}${path}`, init);

describe('worker skeleton', () => {
  it('answers /health with JSON', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ ok: true, name: 'effigy' });
  });

  it('gives unknown /api paths a JSON 404', async () => {
    const res = await get('/api/nope');
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('not_found');
    expect(typeof body.error.message).toBe('string');
  });

  it('rejects invalid room names with 400', async () => {
    for (const name of ['bad!name', 'a'.repeat(65), 'sp%20ace']) {
      const res = await get(`/room/${name}`, { headers: { Upgrade: 'websocket' } });
      expect(res.status, name).toBe(400);
    }
  });

  it('upgrades a valid room name to a WebSocket held by the Room DO', async () => {
    const res = await get('/room/lobby_1', { headers: { Upgrade: 'websocket' } });
    expect(res.status).toBe(101);
    const ws = res.webSocket;
    expect(ws).toBeTruthy();
    ws!.accept();
    ws!.close(1000, 'done');
  });

  it('requires the upgrade header on /room/:name', async () => {
    const res = await get('/room/lobby');
    expect(res.status).toBe(426);
  });
});

describe('bindings', () => {
  it('has the dropbox migration applied to D1', async () => {
    const row = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'drops'").first<{ name: string }>();
    expect(row?.name).toBe('drops');
    const indexes = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'drops' ORDER BY name").all<{
      name: string;
    }>();
    expect(indexes.results.map((r) => r.name)).toEqual(expect.arrayContaining(['drops_expires_at', 'drops_target']));
  });

  it('stores and reads back an R2 object', async () => {
    await env.BLOBS.put('hello', 'world', { httpMetadata: { contentType: 'text/plain' } });
    const obj = await env.BLOBS.get('hello');
    expect(await obj?.text()).toBe('world');
    expect(obj?.httpMetadata?.contentType).toBe('text/plain');
  });

  it('exposes config vars', () => {
    expect(Number(env.DROPBOX_TTL_DAYS)).toBeGreaterThan(0);
    expect(Number(env.MAX_BLOB_BYTES)).toBeGreaterThan(0);
  });
});

describe('cron', () => {
  it('runs the scheduled handler without error', async () => {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/15 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
  });
});
