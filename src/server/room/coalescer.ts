/**
 * Presence changes bound for a socket wait here and go out together: one
 * timer per shard flushes every waiting socket at once, one presence_list
 * each (more only past listChunk items). The window is presenceWindowMs (100 ms) while changes come
 * one or two per socket. When a window brings more (a burst of joins, a
 * reconnect storm), the next one is presenceGrowth times longer, up to
 * presenceWindowMaxMs; but a window also ends once no change has come for an
 * eighth of it (at least presenceQuietMs), so the last frame of a storm
 * leaves soon after it is over, and the pauses within a storm (clients come
 * in waves) do not end its windows. A storm of any length thus costs each
 * socket a handful of frames (about log4 of its length over 100 ms, plus
 * one), not one per arrival (docs/room.md §5).
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
  #window: number = ROOM_LIMITS.presenceWindowMs;
  #windowEnd = 0;
  #lastChangeAt = 0;
  /** Changes in the current window, for or through this shard. */
  #changes = 0;
  /** Frames sent, for the bench. */
  frames = 0;

  constructor(private readonly send: (conn: Conn, frame: PresenceFrame) => void) {}

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
    this.#arm();
  }

  /** The socket left: what waited for it is dropped. */
  forget(conn: Conn): void {
    this.#pending.delete(conn);
  }

  /** Counts a change and starts the window if it is not running. */
  #arm(): void {
    this.#changes++;
    this.#lastChangeAt = Date.now();
    if (this.#timer !== null) return;
    this.#windowEnd = this.#lastChangeAt + this.#window;
    this.#wake();
  }

  /** The current window, ms. */
  get window(): number {
    return this.#window;
  }

  /** How long without a change ends a window early: an eighth of it, at least presenceQuietMs. */
  #quiet(): number {
    return Math.max(ROOM_LIMITS.presenceQuietMs, this.#window / 8);
  }

  #wake(): void {
    const at = Math.min(this.#windowEnd, this.#lastChangeAt + this.#quiet());
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, at - Date.now()));
  }

  #tick(): void {
    this.#timer = null;
    const now = Date.now();
    if (now < this.#windowEnd && now - this.#lastChangeAt < this.#quiet()) return this.#wake();
    this.flush();
  }

  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const L = ROOM_LIMITS;
    const busy = this.#changes >= L.presenceBusyChanges * Math.max(1, this.#pending.size);
    this.#window = busy ? Math.min(L.presenceWindowMaxMs, this.#window * L.presenceGrowth) : L.presenceWindowMs;
    this.#changes = 0;
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [conn, changes] of pending) {
      for (const frame of framesOf(changes)) {
        this.frames++;
        this.send(conn, frame);
      }
    }
  }
}
