/**
 * An account leases its own feed (the synod's: profile, devices, servers)
 * on every server it uses, as docs/hosted.md §4 advises. With presence by
 * interest a device lets only the devices it knows see it, so whoever comes
 * to an account fresh — a new follower, a device joining or restoring the
 * account — needs the account's device list before any device links with
 * it: the server that holds the lease serves it to anyone (`get_heads`,
 * `get_feed`). The feed is a handful of entries; renewing with the same
 * head only extends the lease.
 */
import type { Hash } from '../protocol/index.ts';
import type { Keys } from './keys.ts';
import { blobRefsOf, callLease, httpOrigin, uploadBlob } from './lease.ts';
import type { Link } from './link.ts';
import type { Replica } from './replica.ts';

/** How long each lease runs; it is renewed on every session with the server and whenever the account's feed moves. */
const LEASE_SECONDS = 30 * 24 * 3600;
/** Renew once less than this is left. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;
/** A refusal right after the device's first entry naming the synod may only mean the server has not stored that entry yet. */
const RETRY_MS = [1_000, 3_000];

export class AccountLease {
  /** Per server (HTTP origin): the head leased there and until when. */
  #leased = new Map<string, { head: Hash; expires: number }>();
  #busy = new Map<string, Promise<void>>();

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly log: (line: string) => void,
  ) {}

  /** Lease (or renew) the account's feed on the server behind this room link, one call per server at a time. */
  renew(link: Link, roomUrl: string): Promise<void> {
    const origin = httpOrigin(roomUrl);
    const next = (this.#busy.get(origin) ?? Promise.resolve()).then(() => this.#renew(link, origin));
    const settled = next.catch((err: Error) => this.log(`leasing the account's feed at ${origin}: ${err.message}`));
    this.#busy.set(origin, settled);
    return settled;
  }

  async #renew(link: Link, origin: string, attempt = 0): Promise<void> {
    const synod = this.keys.synodIdentity;
    const me = this.keys.device.identity;
    if (!synod || link.closed || this.replica.synod(synod)?.devices.get(me)?.cut !== null) return;
    const head = await this.replica.head(synod);
    if (!head) return;
    // A server lets a session lease its synod's feed once the session's own head names the synod (docs/hosted.md §3.1, §4).
    const own = await this.replica.head(me);
    if (!own || (await this.replica.store.getEntry(own.hash))?.body.synod?.[0] !== synod) return;
    const held = this.#leased.get(origin);
    if (held?.head === head.hash && held.expires - Date.now() > RENEW_BEFORE_MS) return;
    for (const entry of await this.replica.chain(synod))
      for (const ref of await blobRefsOf(entry, this.replica.store)) {
        const bytes = await this.replica.store.getBlob(ref.hash);
        if (bytes) await uploadBlob(origin, this.keys.device, ref.hash, bytes);
      }
    try {
      const grant = await callLease(link, synod, head.hash, LEASE_SECONDS);
      this.#leased.set(origin, { head: grant.head, expires: grant.expires });
    } catch (err) {
      const wait = RETRY_MS[attempt];
      if (wait === undefined || !/forbidden/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, wait));
      return this.#renew(link, origin, attempt + 1);
    }
  }
}
