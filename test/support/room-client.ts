/**
 * A minimal room client for tests and benches: wraps any WebSocket (workerd's
 * from `fetch`, Node's global one), queues incoming frames, and performs the
 * session handshake. Every frame from the room is checked with parseWire
 * unless `validate` is off, so a malformed server message fails the test.
 */
import {
  generateKeyPair,
  newChallenge,
  parseWire,
  signSession,
  verifySession,
  type Hash,
  type Identity,
  type KeyPair,
  type Service,
  type WireMessage,
  type WireOf,
  type WireType,
} from '../../src/protocol/index.ts';

/** The part of a WebSocket this client uses; both workerd's and the DOM's fit. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  readonly readyState: number;
  addEventListener(...args: any[]): void;
}

export interface Closed {
  code: number;
  reason: string;
}

type Match = (msg: WireMessage) => boolean;
interface Waiter {
  match: Match;
  resolve: (msg: WireMessage) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class RoomClient {
  /** Frames received and not yet taken by `next`. */
  readonly inbox: WireMessage[] = [];
  /** What the room said of presence so far (every presence_list applied, docs/protocol.md §13.8 rule 11). */
  readonly present = new Map<Identity, Hash | null>();
  /** Heads the room reported in presence_list.heads, latest per identity. */
  readonly heads = new Map<Identity, Hash>();
  /** presence_list frames received. */
  presenceFrames = 0;
  /** The keys this socket was opened for (the URL's identity), when the opener chose them. */
  keys: KeyPair | undefined;
  /** Frames that failed parseWire (a server bug). */
  readonly invalid: string[] = [];
  readonly closed: Promise<Closed>;
  isClosed = false;
  /** Pings the room sent (a silent socket is pinged, docs/room.md §8); answered with pong unless `silent`. */
  pingsReceived = 0;
  /** When set, the client answers no ping from the room (a half-open client, for the idle rule's tests). */
  silent = false;
  /** When set, every frame goes here instead of the inbox (benches). */
  onFrame: ((text: string) => void) | undefined;
  #waiters: Waiter[] = [];

  constructor(
    readonly ws: SocketLike,
    readonly validate = true,
  ) {
    ws.addEventListener('message', (event: { data: unknown }) => this.#receive(event.data));
    this.closed = new Promise((resolve) => {
      ws.addEventListener('close', (event: { code: number; reason: string }) => {
        this.isClosed = true;
        for (const w of this.#waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`socket closed (${event.code} ${event.reason}) while waiting`));
        }
        resolve({ code: event.code, reason: event.reason });
      });
    });
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') {
      this.invalid.push(`<binary frame>`);
      return;
    }
    if (this.onFrame) {
      this.onFrame(data);
      return;
    }
    let msg: WireMessage;
    if (this.validate) {
      const parsed = parseWire(data);
      if (!parsed.ok) {
        this.invalid.push(`${parsed.error.code}: ${parsed.error.message}: ${data.slice(0, 200)}`);
        return;
      }
      msg = parsed.value;
    } else {
      msg = JSON.parse(data) as WireMessage;
    }
    if (msg.type === 'presence_list') this.#apply(msg);
    if (msg.type === 'ping' && msg.re === undefined) {
      this.pingsReceived++;
      if (!this.silent) this.send({ type: 'pong', ...(msg.id ? { re: msg.id } : {}) });
      return;
    }
    const i = this.#waiters.findIndex((w) => w.match(msg));
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      clearTimeout(w!.timer);
      w!.resolve(msg);
    } else {
      this.inbox.push(msg);
    }
  }

  #apply(msg: WireOf<'presence_list'>): void {
    this.presenceFrames++;
    for (const p of msg.peers) this.present.set(p.identity, p.head);
    for (const identity of msg.offline ?? []) this.present.delete(identity);
    for (const [identity, head] of msg.heads ?? []) this.heads.set(identity, head);
  }

  send(msg: WireMessage | Record<string, unknown> | string): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first queued or future frame of `type` (and matching `where`). */
  next<K extends WireType>(type: K, where: (msg: WireOf<K>) => boolean = () => true, timeoutMs = 5000): Promise<WireOf<K>> {
    const match: Match = (msg) => msg.type === type && where(msg as WireOf<K>);
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as WireOf<K>);
    if (this.isClosed) return Promise.reject(new Error(`socket closed while waiting for ${type}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.timer !== timer);
        const seen = this.inbox.map((m) => m.type).join(', ') || 'nothing';
        reject(new Error(`no ${type} within ${timeoutMs} ms (inbox: ${seen})`));
      }, timeoutMs);
      this.#waiters.push({ match, resolve: resolve as (msg: WireMessage) => void, reject, timer });
    });
  }

  /** The next frame answering request `re`, whatever its type. */
  answer(re: string, timeoutMs = 5000): Promise<WireMessage> {
    const match: Match = (msg) => msg.re === re;
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    if (this.isClosed) return Promise.reject(new Error(`socket closed while waiting for the answer to ${re}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.timer !== timer);
        reject(new Error(`no answer to ${re} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push({ match, resolve, reject, timer });
    });
  }

  /** The next `error`, optionally answering request `re`. */
  error(re?: string, timeoutMs?: number): Promise<WireOf<'error'>> {
    return this.next('error', (e) => re === undefined || e.re === re, timeoutMs);
  }

  /** Takes every queued frame. */
  drain(): WireMessage[] {
    return this.inbox.splice(0);
  }

  close(code = 1000, reason = 'bye'): void {
    try {
      this.ws.close(code, reason);
    } catch {
      // already closing
    }
  }
}

export interface Session {
  client: RoomClient;
  keys: KeyPair;
  identity: Identity;
  /** The room's identity, from its session_request. */
  server: Identity;
  services: string[];
}

export interface HandshakeOptions {
  keys?: KeyPair;
  head?: Hash | null;
  /** Wait for provides (default true). */
  waitJoin?: boolean;
  /** Services to request_service once joined (the room grants datalease and dropbox only on request), each awaited. */
  request?: readonly Service[];
  /** `member` for those requests: the add_device entry of the session's synod. */
  member?: string;
  timeoutMs?: number;
}

/**
 * The client side of the session handshake: answer the room's
 * session_request with ours and our session_auth, then check the room's
 * session_auth. `endpoint` is canonicalEndpoint of the URL dialled.
 */
export async function handshake(client: RoomClient, endpoint: string, opts: HandshakeOptions = {}): Promise<Session> {
  const keys = opts.keys ?? client.keys ?? (await generateKeyPair());
  const timeout = opts.timeoutMs ?? 5000;
  const hello = await client.next('session_request', undefined, timeout);
  const challenge = newChallenge();
  client.send({ type: 'session_request', identity: keys.identity, head: opts.head ?? null, challenge });
  const signature = await signSession(keys, {
    endpoint,
    peer: hello.identity,
    signerChallenge: challenge,
    peerChallenge: hello.challenge,
  });
  client.send({ type: 'session_auth', signature });
  const auth = await client.next('session_auth', undefined, timeout);
  const fields = { endpoint, signer: hello.identity, peer: keys.identity, signerChallenge: hello.challenge, peerChallenge: challenge };
  if (!(await verifySession(fields, auth.signature))) throw new Error("the room's session_auth does not verify");
  let services: string[] = [];
  if (opts.waitJoin ?? true) services = (await client.next('provides', undefined, timeout)).services;
  for (const service of opts.request ?? []) {
    const id = `svc-${service}`;
    client.send({ type: 'request_service', id, service, ...(opts.member !== undefined && { member: opts.member }) });
    const answer = await client.answer(id, timeout);
    if (answer.type !== 'ok') throw new Error(`request_service ${service} refused: ${JSON.stringify(answer)}`);
    services = (await client.next('provides', (m) => m.re === id, timeout)).services;
  }
  return { client, keys, identity: keys.identity, server: hello.identity, services };
}

/** Sends one list change (watch or allow) or the opt-ins, and waits for its `ok`. */
export async function ask(client: RoomClient, message: WireMessage & { id: string }, timeoutMs = 5000): Promise<void> {
  client.send(message);
  const answer = await client.answer(message.id, timeoutMs);
  if (answer.type !== 'ok') throw new Error(`${message.type} refused: ${JSON.stringify(answer)}`);
}

let asked = 0;

/** Watch these identities (one frame per 512), waiting for each `ok`. */
export async function watch(client: RoomClient, add: readonly Identity[], remove: readonly Identity[] = []): Promise<void> {
  await ask(client, { type: 'watch', id: `w${++asked}`, add: [...add], remove: [...remove] });
}

/** Let these identities see and message us. */
export async function allow(client: RoomClient, add: readonly Identity[], remove: readonly Identity[] = []): Promise<void> {
  await ask(client, { type: 'allow', id: `a${++asked}`, add: [...add], remove: [...remove] });
}

export async function visibility(client: RoomClient, anyone: boolean, strangers = false): Promise<void> {
  await ask(client, { type: 'visibility', id: `v${++asked}`, anyone, strangers });
}

/** Polls `check` until it holds or `timeoutMs` passes. */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
