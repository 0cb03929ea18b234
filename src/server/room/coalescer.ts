/**
 * Presence changes bound for a socket wait here and go out together: one
 * timer per shard flushes every waiting socket at once, one presence_list
 * each (more only past listChunk items). The window is presenceWindowMs when
 * the shard is quiet and grows with the changes of the last second, up to
 * presenceWindowMaxMs, so a reconnect storm costs each socket a few frames,
 * not one per arrival (docs/room.md §5).
 */
import type { Hash, Identity, WireOf } from '../../protocol/index.ts';
import type { Conn } from './conn.ts';
import type { Change } from './interest.ts';
import { ROOM_LIMITS } from './limits.ts';

interface Pending {
  /** Latest presence per identity: its head when present, null... when not present. */
  readonly presence: Map<Identity, { head: Hash | null } | 'offline'>;
  readonly heads: Map<Identity, Hash>;
}

type PresenceFrame = WireOf<'presence_list'>;

/** Splits one socket's pending changes into frames of at most `chunk` items. */
export function framesOf(pending: Pending, chunk: number = ROOM_LIMITS.listChunk): PresenceFrame[] {
  const frames: PresenceFrame[] = [];
  let frame: PresenceFrame = { type: 'presence_list', peers: [] };
  let items = 0;
  const room = () => {
    if (items < chunk) return;
    frames.push(frame);
    frame = { type: 'presence_list', peers: [] };
    items = 0;
  };
  for (const [identity, state] of pending.presence) {
    room();
    if (state === 'offline') (frame.offline ??= []).push(identity);
    else frame.peers.push({ identity, head: state.head });
    items++;
  }
  for (const [identity, head] of pending.heads) {
    room();
    (frame.heads ??= []).push([identity, head]);
    items++;
  }
  if (items > 0) frames.push(frame);
  return frames;
}

export class Coalescer {
  readonly #pending = new Map<Conn, Pending>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Changes queued in the current and the previous second, for the load estimate. */
  #second = 0;
  #thisSecond = 0;
  #lastSecond = 0;
  /** Frames sent and changes carried, for the bench. */
  frames = 0;
  changes = 0;

  constructor(
    private readonly send: (conn: Conn, frame: PresenceFrame) => void,
    /** Runs at each tick before the sockets are flushed (the changes bound for other shards leave then). */
    private readonly beforeFlush: () => void,
  ) {}

  /** Queues a change for one socket. */
  queue(conn: Conn, change: Exclude<Change, { kind: 'member' }>): void {
    let pending = this.#pending.get(conn);
    if (!pending) this.#pending.set(conn, (pending = { presence: new Map(), heads: new Map() }));
    if (change.kind === 'head') pending.heads.set(change.identity, change.head);
    else {
      // Re-inserted so the map's order is the order of the latest changes.
      pending.presence.delete(change.identity);
      pending.presence.set(change.identity, change.kind === 'offline' ? 'offline' : { head: change.head });
    }
    this.arm();
  }

  /** The socket left: what waited for it is dropped. */
  forget(conn: Conn): void {
    this.#pending.delete(conn);
  }

  /** Starts the window if it is not running (also for changes bound for other shards). */
  arm(): void {
    this.#count();
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => this.flush(), this.window());
  }

  /** The window for the next tick, from the load of the last second. */
  window(): number {
    const L = ROOM_LIMITS;
    const load = Math.max(this.#thisSecond, this.#lastSecond);
    return Math.min(L.presenceWindowMaxMs, L.presenceWindowMs * (1 + Math.floor(load / L.presenceLoadStep)));
  }

  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.beforeFlush();
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [conn, changes] of pending) {
      this.changes += changes.presence.size + changes.heads.size;
      for (const frame of framesOf(changes)) {
        this.frames++;
        this.send(conn, frame);
      }
    }
  }

  #count(): void {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#second) {
      this.#lastSecond = second === this.#second + 1 ? this.#thisSecond : 0;
      this.#thisSecond = 0;
      this.#second = second;
    }
    this.#thisSecond++;
  }
}
