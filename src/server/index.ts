import { Hono } from 'hono';
import type { Env } from './env.ts';
import { blobsApi } from './hosted/blobs-http.ts';
import { scheduled } from './scheduled.ts';
import { turnApi } from './turn/routes.ts';

export { Room } from './room.ts';

const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

type ErrorBody = { error: { code: string; message: string } };
const error = (code: string, message: string): ErrorBody => ({ error: { code, message } });

const app = new Hono<{ Bindings: Env }>();

app.get('/health', (c) => c.json({ ok: true, name: 'effigy' }));

app.get('/room/:name', (c) => {
  const name = c.req.param('name');
  if (!ROOM_NAME.test(name)) {
    return c.json(error('bad_room_name', 'room name must be 1-64 of [A-Za-z0-9_-]'), 400);
  }
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    return c.json(error('upgrade_required', 'expected a WebSocket upgrade'), 426);
  }
  const stub = c.env.ROOM.get(c.env.ROOM.idFromName(name));
  return stub.fetch(c.req.raw);
});

// Short-lived TURN credentials for a signed-in identity (docs/protocol.md §15.5).
app.route('/api/turn', turnApi);

// Content-addressed blobs in R2: signed uploads, public downloads with ranges (docs/hosted.md).
app.route('/api/blobs', blobsApi);

app.all('/api/*', (c) => c.json(error('not_found', `no such endpoint: ${c.req.path}`), 404));

// Only reached when the request was routed to the Worker without matching a
// route above (e.g. /room/ with no name); the asset layer owns the rest.
app.notFound((c) => {
  const path = c.req.path;
  if (path.startsWith('/room/') || path.startsWith('/api/')) {
    return c.json(error('not_found', `no such endpoint: ${path}`), 404);
  }
  return c.env.ASSETS.fetch(c.req.raw);
});

app.onError((err, c) => {
  console.error(err);
  return c.json(error('internal', 'internal error'), 500);
});

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
