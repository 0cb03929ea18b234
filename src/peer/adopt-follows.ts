/**
 * After an account comes back on a new device (recovery through friends),
 * that device picks up whom the account followed, blocked and muted: for a
 * day, every head of the account's other devices (and of the account feed)
 * that arrives is read for follows, blocks and mutes, the newest word on
 * each identity winning, and the watch list follows. Ordinary paired devices
 * do not do this: the design lets each device choose what it replicates.
 */
import { parseIdentity, type Identity } from '../protocol/index.ts';
import type { Keys } from './keys.ts';
import type { PrivateNotes } from './private-notes.ts';
import type { Replica } from './replica.ts';
import type { StoredHead } from './store.ts';

const ADOPT = 'recovery-adopt';
const ADOPT_MS = 24 * 3600_000;

interface Adoption {
  synod: Identity;
  until: number;
}

/** The identity a mute's plaintext (a block payload) names, if it is one. */
function mutedIn(text: string | null): Identity | undefined {
  try {
    const parsed = text ? (JSON.parse(text) as { type?: string; identity?: unknown }) : null;
    return parsed?.type === 'block' && typeof parsed.identity === 'string' && parseIdentity(parsed.identity).ok
      ? (parsed.identity as Identity)
      : undefined;
  } catch {
    return undefined;
  }
}

export class FollowAdoption {
  /** The adoption under way, read from the store once (every head event asks). */
  #adoption: Promise<Adoption | null> | null = null;

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly notes: PrivateNotes,
  ) {
    replica.events.on('head', (h) => void this.#headMoved(h).catch(() => undefined));
  }

  /** Start adopting for the account just recovered, and adopt what is held already. */
  async start(synod: Identity, now = Date.now()): Promise<void> {
    const adoption: Adoption = { synod, until: now + ADOPT_MS };
    await this.replica.store.putSetting(ADOPT, adoption);
    this.#adoption = Promise.resolve(adoption);
    for (const feed of this.#feeds(synod)) await this.#adopt(feed);
  }

  #feeds(synod: Identity): Identity[] {
    const devices = [...(this.replica.synod(synod)?.devices.values() ?? [])].map((d) => d.device);
    return [synod, ...devices].filter((i) => i !== this.keys.device.identity);
  }

  async #headMoved(head: StoredHead): Promise<void> {
    this.#adoption ??= this.replica.store.getSetting<Adoption>(ADOPT).then((a) => a ?? null);
    const adoption = await this.#adoption;
    if (!adoption || adoption.until < Date.now() || adoption.synod !== this.keys.synodIdentity) return;
    if (head.identity === adoption.synod) {
      // New devices may have appeared in the account: they may hold follows too.
      for (const feed of this.#feeds(adoption.synod)) await this.#adopt(feed);
    } else if (this.#feeds(adoption.synod).includes(head.identity)) await this.#adopt(head.identity);
  }

  /** The newest follow, block or mute of each identity in one feed decides. */
  async #adopt(feed: Identity): Promise<void> {
    const decided = new Map<Identity, 'follow' | 'block'>();
    for (const e of await this.replica.feed(feed, 5000)) {
      const p = e.body.payload;
      let subject: Identity | undefined;
      let word: 'follow' | 'block' | undefined;
      if (p.type === 'follow' || p.type === 'block') [subject, word] = [p.identity, p.type];
      else if (p.type === 'mute') {
        const muted = mutedIn(this.notes.read(e));
        if (muted) [subject, word] = [muted, 'block'];
      }
      if (subject && word && !decided.has(subject)) decided.set(subject, word);
    }
    const own = new Set<Identity>([this.keys.device.identity, ...(this.keys.synodIdentity ? [this.keys.synodIdentity] : [])]);
    for (const [identity, word] of decided) {
      if (own.has(identity)) continue;
      if (word === 'block') {
        await this.replica.setBlocked(identity, true);
        await this.replica.unwatch(identity, 'follow');
      } else if (!this.replica.isBlocked(identity)) await this.replica.watch(identity, 'follow');
    }
  }
}
