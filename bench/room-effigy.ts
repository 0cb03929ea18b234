/**
 * The Effigy side of the room bench: a client that speaks the room's
 * protocol over Node's WebSocket, counts what it receives, and keeps the
 * presence it was told. `legacy` speaks the room as it was before presence
 * by interest (everyone hears of everyone: online, offline, presence_list),
 * so the same bench measures the old code (see bench/room.bench.ts).
 */
import { canonicalEndpoint, generateKeyPair, LIMITS, type Identity, type KeyPair } from '../src/protocol/index.ts';
import { handshake, RoomClient } from '../test/support/room-client.ts';

export const LEGACY = process.env.ROOM_BENCH_LEGACY === '1';

interface Frame {
  type: string;
  from?: Identity;
  payload?: unknown;
  identity?: Identity;
  peers?: { identity: Identity }[];
  offline?: Identity[];
  code?: string;
  message?: string;
}

export class BenchClient {
  /** presence_list frames (and, in legacy, online and offline). */
  presenceFrames = 0;
  frames = 0;
  /** Frames this client sent, handshake included: the room's events, where it has no counters (legacy). */
  sent = 2;
  errors = 0;
  readonly present = new Set<Identity>();
  onMessage: (from: Identity, payload: unknown) => void = () => {};

  constructor(
    readonly keys: KeyPair,
    readonly client: RoomClient,
  ) {
    for (const m of client.inbox.splice(0)) this.#frame(m as Frame);
    client.onFrame = (text) => this.#frame(JSON.parse(text) as Frame);
  }

  get identity(): Identity {
    return this.keys.identity;
  }

  #frame(m: Frame): void {
    this.frames++;
    switch (m.type) {
      case 'presence_list':
        this.presenceFrames++;
        for (const p of m.peers ?? []) if (p.identity !== this.identity) this.present.add(p.identity);
        for (const identity of m.offline ?? []) this.present.delete(identity);
        return;
      case 'online':
        this.presenceFrames++;
        if (m.identity !== this.identity) this.present.add(m.identity!);
        return;
      case 'offline':
        this.presenceFrames++;
        this.present.delete(m.identity!);
        return;
      case 'message_from':
        return this.onMessage(m.from!, m.payload);
      case 'error':
        this.errors++;
        if (this.errors <= 3) console.error(`effigy error at ${this.identity.slice(0, 8)}: ${m.code}: ${m.message}`);
    }
  }

  raw(message: object): void {
    this.sent++;
    this.client.ws.send(JSON.stringify(message));
  }

  send(to: Identity, payload: unknown): void {
    this.raw({ type: 'message_to', to, payload });
  }

  /** After the session: the opt-ins and the watch list (nothing in legacy: everyone sees everyone there). */
  tell(watch: readonly Identity[], anyone = true, strangers = true): void {
    if (LEGACY) return;
    this.raw({ type: 'visibility', anyone, strangers });
    for (let i = 0; i < watch.length; i += LIMITS.listItems) this.raw({ type: 'watch', add: watch.slice(i, i + LIMITS.listItems) });
  }

  close(): void {
    this.client.close();
  }
}

/**
 * The client address a bench client claims: one of 64 in 198.18.0.0/15, the
 * range RFC 2544 reserves for benchmarks, picked by its identity. The room
 * caps sockets per shard from one address (256); a 2,000-client storm from
 * one address would hit it, where real clients come from many. Locally
 * `CF-Connecting-IP` passes through `wrangler dev` unchanged (Cloudflare
 * sets it in production).
 */
function benchAddress(identity: Identity): string {
  let h = 0;
  for (let i = 0; i < identity.length; i++) h = (h * 31 + identity.charCodeAt(i)) >>> 0;
  return `198.18.0.${(h % 64) + 1}`;
}

function openSocket(url: string, identity: Identity): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // Node's WebSocket (undici) takes request headers; the DOM typings do not know them.
    const ws = new WebSocket(url, { headers: { 'CF-Connecting-IP': benchAddress(identity) } } as never);
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
}

/** A client in `room`, authenticated; `beforeAuth` runs as its last handshake frame (session_auth) leaves. */
export async function connectEffigy(base: string, room: string, keys?: KeyPair, beforeAuth?: () => void): Promise<BenchClient> {
  const k = keys ?? (await generateKeyPair());
  const url = `${base.replace(/^http/, 'ws')}/room/${room}`;
  const client = new RoomClient((await openSocket(`${url}?identity=${k.identity}`, k.identity)) as never, false);
  if (beforeAuth) {
    const send = client.send.bind(client);
    client.send = (msg) => {
      if (typeof msg === 'object' && (msg as { type?: string }).type === 'session_auth') beforeAuth();
      send(msg);
    };
  }
  await handshake(client, canonicalEndpoint(url), { keys: k, timeoutMs: 60_000 });
  return new BenchClient(k, client);
}

/** Per-shard counters of the room (GET /room/:name/stats, ROOM_STATS=1); null where the room has none (legacy). */
export interface ShardStats {
  shard: number;
  sockets: number;
  frames: number;
  rpc: number;
  /** RPC calls this shard made to other shards, and the ops they carried (docs/room.md §9: batched). */
  rpcOut: number;
  opsOut: number;
  /** The shard's SQLite database size. */
  bytes: number;
}

export async function shardStats(base: string, room: string): Promise<ShardStats[] | null> {
  if (LEGACY) return null;
  const res = await fetch(`${base}/room/${room}/stats`);
  if (!res.ok) throw new Error(`stats: ${res.status} ${await res.text()}`);
  return (await res.json()) as ShardStats[];
}
