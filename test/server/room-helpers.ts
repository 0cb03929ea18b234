/** Opening room sockets inside workerd: through the Worker's own fetch, as a browser's upgrade would arrive. */
import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import {
  canonicalEndpoint,
  createEntry,
  generateKeyPair,
  parseIdentity,
  randomBytes,
  toBase64url,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
} from '../../src/protocol/index.ts';
import { roomShards } from '../../src/server/room/limits.ts';
import { shardName, shardOf } from '../../src/server/room/shards.ts';
import type { Room } from '../../src/server/room.ts';
import { handshake, RoomClient, type HandshakeOptions, type Session } from '../support/room-client.ts';

export const BASE = 'https://effigy.test';

let counter = 0;
/** Shards a test touched ("<room>/<shard>"), for settleRooms. */
const touched = new Set<string>();
const clients = new Set<RoomClient>();
/** A fresh room per test: Durable Objects are shared by the whole test file. */
export function roomName(label: string): string {
  return `${label}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Shards of every test room (vitest.config.ts gives every room 8). */
export const SHARDS = roomShards(env, 'any-test-room');

/** The home shard of an identity. */
export const homeOf = (identity: Identity): number => shardOf(identity, SHARDS);

/** A fresh key pair whose identity is homed at `shard` (keys are free: draw until one lands there). */
export async function keysAt(shard: number): Promise<KeyPair> {
  for (;;) {
    const keys = await generateKeyPair();
    if (homeOf(keys.identity) === shard) return keys;
  }
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
  for (const name of touched) await runInDurableObject(env.ROOM.get(env.ROOM.idFromName(name)), (_, state) => state.storage.deleteAlarm());
  touched.clear();
}

/** The room's URL as a client dials it: with its identity, or none (`null`). */
export const urlOf = (room: string, identity: Identity | null = null): string =>
  `${BASE}/room/${room}${identity === null ? '' : `?identity=${identity}`}`;
export const endpointOf = (room: string): string => canonicalEndpoint(urlOf(room));

/** Shard `shard` of `room`: the Durable Object itself, for runInDurableObject and evictDurableObject. */
export function stubOf(room: string, shard: number): DurableObjectStub<Room> {
  const name = shardName(room, shard);
  touched.add(name);
  return env.ROOM.get(env.ROOM.idFromName(name)) as DurableObjectStub<Room>;
}

/** The shard of `room` that holds `identity`'s sockets. */
export const stubFor = (room: string, identity: Identity): DurableObjectStub<Room> => stubOf(room, homeOf(identity));

/** An open socket to `room` for `keys` (fresh ones unless given), not yet authenticated (the room's session_request is queued); `ip` arrives as CF-Connecting-IP. */
export async function open(room: string, keys?: KeyPair, ip?: string): Promise<RoomClient> {
  const k = keys ?? (await generateKeyPair());
  const client = await openFor(room, k.identity, ip);
  client.keys = k;
  return client;
}

/** An open socket whose URL names `identity` (no keys: for sockets that never authenticate), from `address` if given. */
export async function openFor(room: string, identity: Identity, address?: string): Promise<RoomClient> {
  touched.add(shardName(room, homeOf(identity)));
  const headers: Record<string, string> = { Upgrade: 'websocket', ...(address ? { 'CF-Connecting-IP': address } : {}) };
  const res = await exports.default.fetch(urlOf(room, identity), { headers });
  const ws = res.webSocket;
  if (res.status !== 101 || !ws) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
  const client = new RoomClient(ws);
  ws.accept();
  clients.add(client);
  return client;
}

/** An identity homed at `shard`, without its key: random bytes that are a usable key, drawn until one lands there. */
export function identityAt(shard: number): Identity {
  for (;;) {
    const text = `@${toBase64url(randomBytes(32))}`;
    if (parseIdentity(text).ok && homeOf(text as Identity) === shard) return text as Identity;
  }
}

/** An authenticated session in `room` (provides taken); `ip` arrives as CF-Connecting-IP. */
export async function join(room: string, opts: HandshakeOptions & { ip?: string } = {}): Promise<Session> {
  return handshake(await open(room, opts.keys, opts.ip), endpointOf(room), opts);
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
