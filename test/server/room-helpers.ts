/** Opening room sockets inside workerd: through the Worker's own fetch, as a browser's upgrade would arrive. */
import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { canonicalEndpoint, createEntry, type Entry, type Hash, type Identity, type KeyPair } from '../../src/protocol/index.ts';
import type { Room } from '../../src/server/room.ts';
import { handshake, RoomClient, type HandshakeOptions, type Session } from '../support/room-client.ts';

export const BASE = 'https://effigy.test';

let counter = 0;
const rooms = new Set<string>();
const clients = new Set<RoomClient>();
/** A fresh room per test: Durable Objects are shared by the whole test file. */
export function roomName(label: string): string {
  const name = `${label}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  rooms.add(name);
  return name;
}

/**
 * Cancels every room's pending alarm (afterAll): an auth-timeout alarm left
 * for later would fire while the test environment is being torn down.
 */
export async function settleRooms(): Promise<void> {
  // Sockets a test left open are closed, and their close handshakes awaited, before the teardown too.
  for (const client of clients) if (!client.isClosed) client.close();
  await Promise.all([...clients].map((c) => Promise.race([c.closed, sleep(2000)])));
  clients.clear();
  for (const room of rooms) await runInDurableObject(stubOf(room), (_, state) => state.storage.deleteAlarm());
  rooms.clear();
}

export const urlOf = (room: string): string => `${BASE}/room/${room}`;
export const endpointOf = (room: string): string => canonicalEndpoint(urlOf(room));

export const stubOf = (room: string): DurableObjectStub<Room> => env.ROOM.get(env.ROOM.idFromName(room)) as DurableObjectStub<Room>;

/** An open socket to `room`, not yet authenticated (the room's session_request is queued); `ip` arrives as CF-Connecting-IP. */
export async function open(room: string, ip?: string): Promise<RoomClient> {
  const res = await exports.default.fetch(urlOf(room), { headers: { Upgrade: 'websocket', ...(ip && { 'CF-Connecting-IP': ip }) } });
  const ws = res.webSocket;
  if (res.status !== 101 || !ws) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
  const client = new RoomClient(ws);
  ws.accept();
  clients.add(client);
  return client;
}

/** An authenticated session in `room` (provides and the first presence_list taken). */
export async function join(room: string, opts: HandshakeOptions & { ip?: string } = {}): Promise<Session> {
  return handshake(await open(room, opts.ip), endpointOf(room), opts);
}

export const note = (text: string) => ({ type: 'public_note', text }) as const;

export function entry(
  keys: KeyPair,
  comparable: number,
  parent: Hash | null = null,
  synod: [Identity, Hash] | null = null,
): Promise<Entry> {
  return createEntry(keys, { parent, comparable, synod, payload: note(`note ${comparable}`) });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Closes every session and waits until the room has seen them go. */
export async function leaveAll(sessions: { client: RoomClient }[]): Promise<void> {
  for (const s of sessions) s.client.close();
  await Promise.all(sessions.map((s) => s.client.closed));
}
