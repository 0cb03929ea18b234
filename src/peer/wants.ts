/**
 * iwant lists (design: "Clients periodically send iwant lists … based on
 * perhaps bandwidth, if the client is operating on a battery, or over a
 * metered cellular connection"; docs/protocol.md §13.10). Blobs are not
 * fetched blind: a fetch first asks its links `iwant` and sends `getblob`
 * only to those that answered `ihave`. Blobs named by entries that arrive
 * (images, avatars, albums) go on a want list that a timer sends as `iwant`
 * to every link, fetching what is offered, as often and as much as the
 * device's conditions allow: nothing in the background under Save-Data, on
 * a metered (cellular) connection, or on a low battery not charging.
 */
import { LIMITS, type BlobRef, type Entry, type Hash } from '../protocol/index.ts';
import { PeerError } from './errors.ts';
import type { Link } from './link.ts';
import type { Store } from './store.ts';

/** What the browser says of the device now (the Network Information and Battery Status APIs, where present). */
export interface Conditions {
  /** The person asked for reduced data use (`navigator.connection.saveData`). */
  saveData: boolean;
  /** A cellular connection (`navigator.connection.type === 'cellular'`), taken as metered. */
  metered: boolean;
  /** Null where the browser has no Battery Status API. */
  battery: { charging: boolean; level: number } | null;
}

export interface WantPolicy {
  /** Fetch wanted blobs in the background (not only those the person opens). */
  prefetch: boolean;
  /** Largest blob fetched in the background. */
  maxPrefetchBytes: number;
  /** Time between iwant rounds. */
  intervalMs: number;
  /** Why: shown on the Network screen. */
  reason: string;
}

/** Conditions → policy (docs/protocol.md §13.10 table). */
export function wantPolicy(c: Conditions): WantPolicy {
  if (c.saveData) return { prefetch: false, maxPrefetchBytes: 0, intervalMs: 300_000, reason: 'Save-Data is on' };
  if (c.metered) return { prefetch: false, maxPrefetchBytes: 0, intervalMs: 300_000, reason: 'metered connection' };
  if (c.battery && !c.battery.charging && c.battery.level < 0.2)
    return { prefetch: false, maxPrefetchBytes: 0, intervalMs: 600_000, reason: 'battery low' };
  if (c.battery && !c.battery.charging) return { prefetch: true, maxPrefetchBytes: 256 * 1024, intervalMs: 120_000, reason: 'on battery' };
  return { prefetch: true, maxPrefetchBytes: LIMITS.blobBytes, intervalMs: 30_000, reason: 'unmetered' };
}

interface NavigatorLike {
  connection?: { saveData?: boolean; type?: string };
  getBattery?: () => Promise<{ charging: boolean; level: number }>;
}

/** Read the browser's conditions; everywhere else (Node, a browser without the APIs): unmetered, no battery. */
export async function browserConditions(): Promise<Conditions> {
  const nav = (globalThis as { navigator?: NavigatorLike }).navigator;
  const battery = await nav?.getBattery?.().then(
    (b) => ({ charging: b.charging, level: b.level }),
    () => null,
  );
  return { saveData: nav?.connection?.saveData === true, metered: nav?.connection?.type === 'cellular', battery: battery ?? null };
}

/** Blobs an entry names, to want in the background. */
export function blobsOf(entry: Entry): BlobRef[] {
  const p = entry.body.payload;
  if (p.type === 'image') return [p.blob];
  if (p.type === 'collection') return [p.root];
  if (p.type === 'identification' && p.avatar) return [p.avatar];
  return [];
}

/** An answer to iwant waits this long: a peer that does not answer is asked with getblob directly. */
const IWANT_TIMEOUT_MS = 3000;
/** Wanted blobs remembered; the oldest go first. */
const WANTED = 1024;

export interface WantsParts {
  store: Store;
  links: () => Link[];
  conditions?: () => Promise<Conditions>;
  log?: (line: string) => void;
}

export class Wants {
  #wanted = new Map<Hash, number>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #policy: WantPolicy = wantPolicy({ saveData: false, metered: false, battery: null });
  /** iwant rounds sent (the Network screen; tests). */
  rounds = 0;

  constructor(private readonly parts: WantsParts) {}

  get policy(): WantPolicy {
    return this.#policy;
  }

  wanted(): Hash[] {
    return [...this.#wanted.keys()];
  }

  /** Want a blob in the background. */
  want(ref: BlobRef): void {
    if (this.#wanted.has(ref.hash)) return;
    this.#wanted.set(ref.hash, ref.size);
    while (this.#wanted.size > WANTED) this.#wanted.delete(this.#wanted.keys().next().value as Hash);
  }

  /** Ask each link which of `hashes` it has: the links that offer each hash. */
  async ask(links: readonly Link[], hashes: readonly Hash[]): Promise<{ offers: Map<Hash, Link[]>; silent: Link[] }> {
    const offers = new Map<Hash, Link[]>();
    const silent: Link[] = [];
    await Promise.all(
      links.map(async (link) => {
        try {
          for (let i = 0; i < hashes.length; i += LIMITS.listItems) {
            const reply = await link.request({ type: 'iwant', hashes: hashes.slice(i, i + LIMITS.listItems) }, IWANT_TIMEOUT_MS);
            if (reply.type !== 'ihave') throw new Error(`answered ${reply.type}`);
            for (const [hash] of reply.blobs) if (hashes.includes(hash)) offers.set(hash, [...(offers.get(hash) ?? []), link]);
          }
        } catch {
          silent.push(link);
        }
      }),
    );
    // Answers arrive in any order: ask in the order of the links (peers, then rooms).
    const order = (a: Link, b: Link) => links.indexOf(a) - links.indexOf(b);
    for (const list of offers.values()) list.sort(order);
    return { offers, silent: silent.sort(order) };
  }

  /** A blob the person opens: from the store, or from a link that says it has it (iwant first), or, failing that, any link that did not answer. */
  async get(ref: BlobRef): Promise<Uint8Array> {
    const local = await this.parts.store.getBlob(ref.hash);
    if (local) return local;
    const links = this.parts.links();
    const { offers, silent } = await this.ask(links, [ref.hash]);
    let lastError: Error | null = null;
    for (const link of [...(offers.get(ref.hash) ?? []), ...silent]) {
      try {
        const bytes = await link.fetchBlob(ref.hash, ref.size);
        this.#wanted.delete(ref.hash);
        return bytes;
      } catch (err) {
        lastError = err as Error;
      }
    }
    throw new PeerError('not_found', `no connected peer has blob ${ref.hash}${lastError ? ` (${lastError.message})` : ''}`);
  }

  /** One round: send the want list as iwant to every link, and fetch what is offered, as the policy allows. */
  async round(): Promise<number> {
    this.#policy = wantPolicy(await (this.parts.conditions ?? browserConditions)());
    for (const hash of [...this.#wanted.keys()]) if (await this.parts.store.getBlob(hash)) this.#wanted.delete(hash);
    const hashes = [...this.#wanted].filter(([, size]) => size <= this.#policy.maxPrefetchBytes).map(([h]) => h);
    if (!this.#policy.prefetch || hashes.length === 0) return 0;
    this.rounds++;
    const { offers } = await this.ask(this.parts.links(), hashes);
    let fetched = 0;
    for (const [hash, links] of offers) {
      for (const link of links) {
        try {
          await link.fetchBlob(hash, this.#wanted.get(hash) ?? LIMITS.blobBytes);
          this.#wanted.delete(hash);
          fetched++;
          break;
        } catch (err) {
          this.parts.log?.(`wanted blob ${hash}: ${(err as Error).message}`);
        }
      }
    }
    return fetched;
  }

  /** Run rounds on a timer, spaced as the policy says. */
  start(): void {
    if (this.#timer) return;
    const tick = () => {
      this.#timer = setTimeout(
        () =>
          void this.round()
            .catch((err: Error) => this.parts.log?.(`iwant round: ${err.message}`))
            .finally(() => this.#timer && tick()),
        this.#policy.intervalMs,
      );
      (this.#timer as { unref?: () => void }).unref?.();
    };
    tick();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
