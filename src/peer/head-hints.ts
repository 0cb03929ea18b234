/**
 * Heads we hear of (from a room's presence, a peer's `head`, a link's
 * answers) that we do not hold yet: pulled from whichever link has them.
 * What nobody serves yet — an account's lease not renewed yet, a peer still
 * linking — is asked for again a few times, later.
 */
import type { Hash, Identity } from '../protocol/index.ts';
import type { Link } from './link.ts';
import type { Replica } from './replica.ts';
import type { RoomClient } from './room-client.ts';

/** Waits before asking again for a head nobody could give yet. */
const RETRIES_MS = [2_000, 6_000, 15_000];
/** At most one account refresh per room in this long. */
const REFRESH_ACCOUNTS_MS = 2_000;

export class HeadHints {
  #refreshing = new WeakSet<RoomClient>();
  #closed = false;

  constructor(
    private readonly replica: Replica,
    private readonly links: () => Link[],
  ) {}

  /** Try every link until the replica holds `head`; later again if none had it. */
  async pull(identity: Identity, head: Hash, attempt = 0): Promise<void> {
    const replica = this.replica;
    const has = async () => (await replica.head(identity))?.hash === head;
    for (const link of this.links()) {
      if (await has()) return;
      await link.pull(identity, head);
    }
    if (this.#closed || attempt >= RETRIES_MS.length || !replica.isWatched(identity) || (await has())) return;
    setTimeout(() => void this.pull(identity, head, attempt + 1), RETRIES_MS[attempt]);
  }

  /**
   * The room shows us someone we have no reason for: it claims an account we
   * watch (§13.8 rule 8), which may have a new device. Ask the room for those
   * accounts' heads (at most once a while per room).
   */
  refreshAccounts(room: RoomClient, accounts: readonly Identity[]): void {
    if (this.#closed || !room.link || this.#refreshing.has(room)) return;
    this.#refreshing.add(room);
    setTimeout(() => this.#refreshing.delete(room), REFRESH_ACCOUNTS_MS);
    void room.link.syncWatched(accounts).catch(() => undefined);
  }

  close(): void {
    this.#closed = true;
  }
}
