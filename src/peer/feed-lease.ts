/**
 * A device leases its own feeds on every server its account uses, as
 * docs/hosted.md §4 advises: the account's (synod) feed — profile, devices,
 * servers — and its own device feed, public and sealed entries with the
 * blobs they point to. With presence by interest a device lets only the
 * people it follows see it, so whoever comes to it fresh — a one-way
 * follower, a device joining or restoring the account — reads both from the
 * server (`get_heads`, `get_feed`) without ever learning its address.
 *
 * Renewing costs one `call` per feed and server; it happens on each session
 * with the server, before the lease runs out, at once when the account's
 * feed moves, and for the device's feed a few seconds after a burst of
 * publishing has settled (never one call per post).
 */
import type { Entry, Hash, Identity } from '../protocol/index.ts';
import type { Keys } from './keys.ts';
import { blobRefsOf, callLease, httpOrigin, uploadBlob } from './lease.ts';
import type { Link } from './link.ts';
import type { Replica } from './replica.ts';
import { memberCard, requestService } from './services.ts';

/** How long each lease runs (the operator's longest term, docs/hosted.md §3.4). */
const LEASE_SECONDS = 30 * 24 * 3600;
/** Renew once less than this is left. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;
/** A burst of posts is leased once it has been quiet this long… */
export const LEASE_QUIET_MS = 3_000;
/** …or, for a burst that does not stop, this long after its first post. */
const LEASE_MAX_WAIT_MS = 30_000;
/** How often the expiry is looked at while a session lasts (a local check: no call unless due). */
const EXPIRY_CHECK_MS = 3600 * 1000;
/** A refusal right after the device's first entry naming the synod may only mean the server has not stored that entry yet. */
const RETRY_MS = [1_000, 3_000];

/** The rooms to lease at now: their server's link and URL. */
export type LeaseRooms = () => Iterable<{ link: Link; url: string }>;

export class FeedLease {
  /** Per server (HTTP origin) and feed: the head leased there, its comparable, and until when. */
  #leased = new Map<string, { head: Hash; comparable: number; expires: number }>();
  #busy = new Map<string, Promise<void>>();
  #quiet: ReturnType<typeof setTimeout> | null = null;
  #burstStarted = 0;
  #expiryCheck: ReturnType<typeof setInterval>;

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly rooms: LeaseRooms,
    private readonly log: (line: string) => void,
  ) {
    this.#expiryCheck = setInterval(() => this.#renewAll(), EXPIRY_CHECK_MS);
    unref(this.#expiryCheck);
  }

  /**
   * One of our feeds moved. The account's feed is leased at once: it moves
   * rarely, and a revocation must reach the server before anyone reads the
   * revoked device's feed there. The device's feed once publishing settles.
   */
  moved(identity: Identity): void {
    if (identity === this.keys.synodIdentity) return this.#renewAll();
    const now = Date.now();
    if (this.#quiet === null) this.#burstStarted = now;
    else clearTimeout(this.#quiet);
    const wait = Math.min(LEASE_QUIET_MS, Math.max(0, this.#burstStarted + LEASE_MAX_WAIT_MS - now));
    this.#quiet = setTimeout(() => {
      this.#quiet = null;
      this.#renewAll();
    }, wait);
    unref(this.#quiet);
  }

  close(): void {
    if (this.#quiet !== null) clearTimeout(this.#quiet);
    clearInterval(this.#expiryCheck);
  }

  #renewAll(): void {
    for (const { link, url } of this.rooms()) void this.renew(link, url);
  }

  /** Lease (or renew) our feeds on the server behind this room link, one server call at a time. */
  renew(link: Link, roomUrl: string): Promise<void> {
    const origin = httpOrigin(roomUrl);
    const next = (this.#busy.get(origin) ?? Promise.resolve()).then(async () => {
      await this.#renew(link, origin, this.keys.device.identity).catch((err: Error) =>
        this.log(`leasing this device's feed at ${origin}: ${err.message}`),
      );
      await this.#renewSynod(link, origin).catch((err: Error) => this.log(`leasing the account's feed at ${origin}: ${err.message}`));
    });
    this.#busy.set(origin, next);
    return next;
  }

  async #renewSynod(link: Link, origin: string): Promise<void> {
    const synod = this.keys.synodIdentity;
    const me = this.keys.device.identity;
    if (!synod || this.replica.synod(synod)?.devices.get(me)?.cut !== null) return;
    // A server lets a session lease its synod's feed once the session's own head names the synod (docs/hosted.md §3.1, §4).
    const own = await this.replica.head(me);
    if (!own || (await this.replica.store.getEntry(own.hash))?.body.synod?.[0] !== synod) return;
    await this.#renew(link, origin, synod);
  }

  async #renew(link: Link, origin: string, identity: Identity, attempt = 0): Promise<void> {
    if (link.closed) return;
    const head = await this.replica.head(identity);
    if (!head) return;
    const key = `${origin} ${identity}`;
    const held = this.#leased.get(key);
    if (held?.head === head.hash && held.expires - Date.now() > RENEW_BEFORE_MS) return;
    // Blobs go up before the call, so the lease records them; only those of entries the server does not hold yet.
    const fresh = (await this.replica.chain(identity)).filter((e) => !held || e.body.comparable > held.comparable);
    await this.#uploadBlobs(origin, fresh);
    // Leases are on request (docs/hosted.md §12): ask first, with this device's card for a server that grants to members.
    await requestService(link, 'datalease', await memberCard(this.keys, this.replica));
    try {
      const grant = await callLease(link, identity, head.hash, LEASE_SECONDS);
      this.#leased.set(key, { head: grant.head, comparable: head.comparable, expires: grant.expires });
    } catch (err) {
      const wait = RETRY_MS[attempt];
      if (wait === undefined || !/forbidden/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, wait));
      return this.#renew(link, origin, identity, attempt + 1);
    }
  }

  async #uploadBlobs(origin: string, entries: readonly Entry[]): Promise<void> {
    for (const entry of entries)
      for (const ref of await blobRefsOf(entry, this.replica.store)) {
        const bytes = await this.replica.store.getBlob(ref.hash);
        if (bytes) await uploadBlob(origin, this.keys.device, ref.hash, bytes);
      }
  }
}

/** Timers must not keep a Node process (tests, tools) alive. */
function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
