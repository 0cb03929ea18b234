/** Helpers for the hosted services' tests: signed blob uploads, feeds, and a client that serves get_feed. */
import { env, exports } from 'cloudflare:workers';
import {
  createEntry,
  FRAME_BUDGET,
  FramePacker,
  fromBase64url,
  hashOf,
  LIMITS,
  signRequest,
  trustedEntry,
  utf8,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
  type Payload,
  type WireOf,
} from '../../src/protocol/index.ts';
import { until, type Session } from '../support/room-client.ts';
import { BASE } from './room-helpers.ts';

export const blobUrl = (hash: string): string => `${BASE}/api/blobs/${encodeURIComponent(hash)}`;

export interface PutOptions {
  /** Signer; defaults to `keys`. */
  signer?: KeyPair;
  time?: number;
  /** The length the signature covers (defaults to the body's). */
  signedLength?: number;
  /** The hash in the URL and signature (defaults to the body's). */
  hash?: Hash;
  headers?: Record<string, string>;
}

/** A signed PUT of `bytes` through the Worker's own fetch. */
export async function putBlob(keys: KeyPair, bytes: Uint8Array, opts: PutOptions = {}): Promise<Response> {
  const hash = opts.hash ?? hashOf(bytes);
  const signed = await signRequest(opts.signer ?? keys, {
    method: 'PUT',
    path: `/api/blobs/${hash}`,
    time: opts.time ?? Date.now(),
    length: opts.signedLength ?? bytes.length,
  });
  const headers: Record<string, string> = { ...signed, 'Content-Type': 'application/octet-stream', ...opts.headers };
  if (opts.signer && opts.signer !== keys) headers['Effigy-Identity'] = keys.identity;
  return exports.default.fetch(blobUrl(hash), { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer>, headers });
}

export const errorOf = async (res: Response): Promise<{ code: string; message: string }> =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

/** Deterministic pseudo-random bytes (fast, not crypto). */
export function bytesOf(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const note = (text: string): Payload => ({ type: 'public_note', text });

/** A chain of `n` entries, root first; `payloadOf(i)` picks each payload. */
export async function chainOf(
  keys: KeyPair,
  n: number,
  opts: { start?: number; parent?: Entry | null; synod?: [Identity, Hash] | null; payloadOf?: (i: number) => Payload } = {},
): Promise<Entry[]> {
  const out: Entry[] = [];
  let parent: Entry | null = opts.parent ?? null;
  let comparable = opts.start ?? (parent ? parent.body.comparable + 1 : 1_000);
  for (let i = 0; i < n; i++) {
    const e = await createEntry(keys, {
      parent: parent?.hash ?? null,
      comparable: comparable++,
      synod: opts.synod ?? null,
      payload: opts.payloadOf?.(i) ?? note(`note ${i}`),
    });
    out.push(e);
    parent = e;
  }
  return out;
}

export interface FeedServer {
  /** get_feed requests answered so far. */
  readonly asked: WireOf<'get_feed'>[];
  /** Entries the server can hand out, by hash. */
  readonly entries: Map<Hash, Entry>;
  stop(): void;
}

const servers = new WeakMap<Session, FeedServer & { tamper?: Tamper }>();
type Tamper = (entries: string[], msg: WireOf<'get_feed'>) => string[];

/**
 * Makes a session answer the room's get_feed like a client engine: from
 * `from` through parents, stopping before `known`, at a root, at `limit`, or
 * at 40 KiB. One server per session: a second call adds `chain` to it.
 * `tamper` may rewrite the answers (for bad-input tests).
 */
export function serveFeed(session: Session, chain: readonly Entry[], tamper?: Tamper): FeedServer {
  const known = servers.get(session);
  if (known) {
    for (const e of chain) known.entries.set(e.hash, e);
    if (tamper) known.tamper = tamper;
    return known;
  }
  const entries = new Map(chain.map((e) => [e.hash, e]));
  const asked: WireOf<'get_feed'>[] = [];
  let stopped = false;
  const server: FeedServer & { tamper?: Tamper } = {
    asked,
    entries,
    stop: () => {
      stopped = true;
    },
    ...(tamper ? { tamper } : {}),
  };
  servers.set(session, server);
  const loop = async () => {
    while (!stopped && !session.client.isClosed) {
      let msg: WireOf<'get_feed'>;
      try {
        msg = await session.client.next('get_feed', undefined, 60_000);
      } catch {
        return;
      }
      asked.push(msg);
      const out: string[] = [];
      const frame = new FramePacker(FRAME_BUDGET.relayable);
      let at = entries.get(msg.from);
      while (at && at.body.identity === msg.identity && at.hash !== msg.known && out.length < msg.limit && frame.take(at.text)) {
        out.push(at.text);
        at = at.body.parent ? entries.get(at.body.parent) : undefined;
      }
      session.client.send({ type: 'entries', re: msg.id, identity: msg.identity, entries: server.tamper ? server.tamper(out, msg) : out });
    }
  };
  void loop();
  return server;
}

/** Walks a feed through the room with get_feed, head first, as a reader would. */
export async function fetchFeed(session: Session, identity: Identity, head: Hash): Promise<string[]> {
  const out: string[] = [];
  let from: Hash | null = head;
  let n = 0;
  while (from) {
    const id = `f${n++}`;
    session.client.send({ type: 'get_feed', id, identity, from, known: null, limit: LIMITS.feedBatch });
    const reply = await session.client.next('entries', (m) => m.re === id);
    if (reply.entries.length === 0) throw new Error(`no entries from ${from}`);
    out.push(...reply.entries);
    const last = reply.entries[reply.entries.length - 1]!;
    from = trustedEntry(hashOf(utf8(last)), last).body.parent;
  }
  return out;
}

/** Fetches a blob over the room socket with getblob, reassembling its chunks; rejects with the room's error. */
export async function getBlobOverRoom(session: Session, hash: Hash, maxsize: number = LIMITS.blobBytes): Promise<Uint8Array> {
  const id = `b${Math.random().toString(36).slice(2, 8)}`;
  const client = session.client;
  client.send({ type: 'getblob', id, hash, maxsize });
  await until(() => client.inbox.some((m) => (m.type === 'blob' || m.type === 'error') && m.re === id), 10_000, `getblob ${hash}`);
  const failed = client.inbox.find((m) => m.type === 'error' && m.re === id);
  if (failed && failed.type === 'error') throw new Error(`${failed.code}: ${failed.message}`);
  let out: Uint8Array | null = null;
  let at = 0;
  for (;;) {
    const msg = await client.next('blob', (m) => m.re === id, 10_000);
    if (msg.offset !== at) throw new Error(`chunk at ${msg.offset}, expected ${at}`);
    const data = fromBase64url(msg.data);
    if (!data.ok) throw new Error('bad chunk');
    out ??= new Uint8Array(msg.total);
    out.set(data.value, at);
    at += data.value.length;
    if (at >= msg.total) return out;
  }
}

export const count = async (sql: string, ...params: unknown[]): Promise<number> =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .first<{ n: number }>()
  )?.n ?? 0;
