import { Hono } from 'hono';
import type { Env } from './env.ts';
import { blobsApi } from './hosted/blobs-http.ts';
import { CLOSE, parseIdentity } from '../protocol/index.ts';
import { errorResponse } from './http.ts';
import { refuseSocket } from './room/admission.ts';
import { roomShards } from './room/limits.ts';
import { shardName, shardOf } from './room/shards.ts';
import { scheduled } from './scheduled.ts';
import { pushApi } from './push/routes.ts';
import { turnApi } from './turn/routes.ts';

export { Room } from './room.ts';

const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const app = new Hono<{ Bindings: Env }>();

app.get('/health', (c) => c.json({ ok: true, name: 'effigy' }));

app.get('/room/:name', (c) => {
  const name = c.req.param('name');
  if (!ROOM_NAME.test(name)) {
    return errorResponse(400, 'bad_room_name', 'room name must be 1-64 of [A-Za-z0-9_-]');
  }
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    return errorResponse(426, 'upgrade_required', 'expected a WebSocket upgrade');
  }
  // Each identity's sockets are held by its home shard of the room (docs/room.md §1, §9).
  const identity = parseIdentity(c.req.query('identity') ?? '');
  if (!identity.ok) {
    return refuseSocket('wrong_shard', 'the room URL must name your identity: /room/<name>?identity=<identity>', CLOSE.wrongShard);
  }
  const shard = shardOf(identity.value, roomShards(c.env, name));
  return c.env.ROOM.get(c.env.ROOM.idFromName(shardName(name, shard))).fetch(c.req.raw);
});

// Per-shard counters for the bench (bench/room.bench.ts); only when the ROOM_STATS var is "1".
app.get('/room/:name/stats', async (c) => {
  const name = c.req.param('name');
  if (c.env.ROOM_STATS !== '1' || !ROOM_NAME.test(name)) return errorResponse(404, 'not_found', `no such endpoint: ${c.req.path}`);
  const stats = await Promise.all(
    Array.from({ length: roomShards(c.env, name) }, (_, shard) =>
      (c.env.ROOM.get(c.env.ROOM.idFromName(shardName(name, shard))) as unknown as { stats(): Promise<Record<string, number>> }).stats(),
    ),
  );
  return c.json(stats);
});

// Short-lived TURN credentials for a signed-in identity (docs/protocol.md §15.5).
app.route('/api/turn', turnApi);

// Content-addressed blobs in R2: signed uploads, public downloads with ranges (docs/hosted.md).
app.route('/api/blobs', blobsApi);

// Web Push subscriptions: a closed app woken for a drop or a call (docs/protocol.md §15.6).
app.route('/api/push', pushApi);

app.all('/api/*', (c) => errorResponse(404, 'not_found', `no such endpoint: ${c.req.path}`));

// Only reached when the request was routed to the Worker without matching a
// route above (e.g. /room/ with no name); the asset layer owns the rest.
app.notFound((c) => {
  const path = c.req.path;
  if (path.startsWith('/room/') || path.startsWith('/api/')) {
    return errorResponse(404, 'not_found', `no such endpoint: ${path}`);
  }
  return c.env.ASSETS.fetch(c.req.raw);
});

app.onError((err, c) => {
  console.error(err);
  return errorResponse(500, 'internal', 'internal error');
});

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
