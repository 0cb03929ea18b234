/**
 * Follows without a link. Links are by consent: someone we follow who does
 * not follow us back never links with us, and the room tells us neither
 * that they are online nor that their head moved (docs/room.md, presence by
 * interest). Their devices lease their feeds on the servers their account
 * uses (feed-lease.ts), so we ask those servers: a `get_heads` for every
 * watched identity we hold no link to, now and then and whenever the app
 * asks (a screen opened), then pull what is newer from the room's lease.
 * The cost is one `get_heads` per room per interval (chunked at the list
 * limit), and nothing at all while every follow is linked.
 */
import type { Identity } from '../protocol/index.ts';
import type { Mesh } from './mesh.ts';
import type { Replica } from './replica.ts';

/** How often rooms are asked, by default (jittered ±20 % so that a room's clients spread out). */
export const FOLLOW_POLL_MS = 5 * 60_000;
/** Asking on demand (`now`) more often than this is answered by the last ask. */
const MIN_GAP_MS = 10_000;

export class FollowPoll {
  #timer: ReturnType<typeof setTimeout> | null = null;
  #last = 0;
  #running: Promise<void> | null = null;
  #closed = false;

  constructor(
    private readonly replica: Replica,
    private readonly mesh: Mesh,
    /** Our own identities (this device, its synod): never asked for. */
    private readonly own: () => readonly (Identity | null)[],
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
  ) {
    this.#schedule();
  }

  /** The watched identities no link serves: asked of the rooms. */
  unlinked(): Identity[] {
    const own = new Set(this.own());
    return this.replica.watched().filter((i) => !own.has(i) && !this.mesh.linkTo(i));
  }

  /** Ask the rooms now (at most once per MIN_GAP_MS unless `force`). Resolves when the answers are pulled. */
  now(force = false): Promise<void> {
    if (this.#running) return this.#running;
    if (!force && Date.now() - this.#last < MIN_GAP_MS) return Promise.resolve();
    this.#last = Date.now();
    this.#running = this.#ask().finally(() => (this.#running = null));
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
  }

  async #ask(): Promise<void> {
    const identities = this.unlinked();
    if (identities.length === 0) return;
    const links = [...this.mesh.rooms.values()].flatMap((r) => (r.link ? [r.link] : []));
    await Promise.all(
      links.map((link) =>
        link.syncWatched(identities).catch((err: Error) => this.log(`heads of follows from ${link.peer}: ${err.message}`)),
      ),
    );
  }

  #schedule(): void {
    if (this.#closed) return;
    const wait = this.intervalMs * (0.8 + 0.4 * Math.random());
    this.#timer = setTimeout(() => {
      void this.now(true).finally(() => this.#schedule());
    }, wait);
    (this.#timer as { unref?: () => void }).unref?.();
  }
}
