/**
 * Recovery, the new device's side (docs/protocol.md §9.6): a browser with no
 * account asks friends for their shares through their dropboxes (it is a
 * stranger to them), showing the person one code per friend to read out;
 * releases come back sealed to this device; with `threshold` shares of one
 * set the seed is rebuilt, checked against the account, and the account
 * restored here as a restore from the 24 words would (this device added by
 * the recovered synod key), then the account's follows are taken up.
 */
import { newRecoveryCode, recoverSeed, recoveryDrop, type Hash, type Identity, type RecoveryOf } from '../protocol/index.ts';
import type { FollowAdoption } from './adopt-follows.ts';
import { dropAt } from './courier.ts';
import { dropboxRoom } from './dropbox.ts';
import { PeerError } from './errors.ts';
import { within } from './events.ts';
import type { Keys } from './keys.ts';
import type { Mesh } from './mesh.ts';
import type { PrivateNotes } from './private-notes.ts';
import type { Delivered } from './recovery-friend.ts';
import type { Replica } from './replica.ts';
import type { SynodAccount } from './synod.ts';
import { watchAlong } from './watching.ts';

const PENDING = 'recovery-pending';

export interface Asked {
  readonly friend: Identity;
  /** The code to read out to this friend. */
  readonly code: string;
  /** The request dropped for them; null when it could not be left. */
  readonly request: Hash | null;
  readonly error?: string;
}

export interface PendingRecovery {
  readonly name: string;
  readonly account?: Identity;
  readonly deviceName?: string;
  readonly replyTo: readonly string[];
  readonly asked: readonly Asked[];
  readonly startedAt: number;
}

export interface AskOptions {
  account?: Identity;
  /** Dropbox endpoints where this device collects the releases (the server the app came from). */
  replyTo: string[];
  deviceName?: string;
  /** How long to look each friend's account up (for its readers and dropbox) before asking anyway. */
  lookupMs?: number;
  timeoutMs?: number;
}

export interface RecoveryProgress {
  readonly pending: PendingRecovery | null;
  /** Friends who released, and how many shares the most advanced set still needs. */
  readonly released: readonly Identity[];
  readonly threshold: number | null;
  readonly account: Identity | null;
}

export class RecoveryRestore {
  #restoring: Promise<Identity | null> | null = null;

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly mesh: Mesh,
    private readonly notes: PrivateNotes,
    private readonly synod: SynodAccount,
    private readonly adoption: FollowAdoption,
  ) {}

  pending = async (): Promise<PendingRecovery | null> => (await this.replica.store.getSetting<PendingRecovery>(PENDING)) ?? null;

  /** Ask each friend (an account, or a device) for its share; answers the codes to read out, friend by friend. */
  async ask(friends: readonly Identity[], name: string, options: AskOptions): Promise<PendingRecovery> {
    if (this.keys.synodIdentity && this.replica.synod(this.keys.synodIdentity)?.devices.has(this.keys.device.identity))
      throw new PeerError('bad_input', 'this device already belongs to an account');
    const people = [...new Set(friends)].filter((f) => f !== this.keys.device.identity);
    if (people.length < 2) throw new PeerError('bad_input', 'ask at least two friends');
    if (!name.trim()) throw new PeerError('bad_input', 'say who you are: your friends see this name');
    const fallback = options.replyTo[0];
    if (!fallback) throw new PeerError('bad_input', 'a server to collect the answers at is needed');
    this.#listen(options.replyTo);
    const asked = await Promise.all(people.map((f) => this.#askOne(f, name.trim().slice(0, 64), options)));
    if (asked.every((a) => a.request === null)) throw new PeerError('not_found', asked[0]?.error ?? 'no friend could be reached');
    const pending: PendingRecovery = {
      name: name.trim().slice(0, 64),
      ...(options.account && { account: options.account }),
      ...(options.deviceName && { deviceName: options.deviceName }),
      replyTo: options.replyTo,
      asked,
      startedAt: Date.now(),
    };
    await this.replica.store.putSetting(PENDING, pending);
    return pending;
  }

  async #askOne(friend: Identity, name: string, options: AskOptions): Promise<Asked> {
    const code = newRecoveryCode();
    try {
      // A stranger to them: look their account up for its readers and dropbox, briefly.
      if (!this.replica.synod(friend)) {
        const found = this.replica.events.once('head', (h) => h.identity === friend);
        await this.replica.watch(friend, 'contact');
        await within(found, options.lookupMs ?? 8000);
      }
      const listed = this.replica.synod(friend)?.dropboxes[0];
      const room = dropboxRoom(listed ?? (options.replyTo[0] as string));
      const drop = await recoveryDrop(this.keys.device, await this.notes.readersFor(friend), {
        type: 'recovery_request',
        name,
        ...(options.account && { account: options.account }),
        code,
        replyTo: [...options.replyTo],
      });
      await dropAt(this.mesh, room, friend, drop, options.timeoutMs);
      return { friend, code, request: drop.hash };
    } catch (err) {
      return { friend, code, request: null, error: (err as Error).message };
    }
  }

  /** While asking, stay in the rooms where the releases arrive, so each is announced as it comes. */
  #listen(replyTo: readonly string[]): void {
    for (const endpoint of replyTo) this.mesh.join(dropboxRoom(endpoint));
  }

  /** Resume listening after a restart of the app. */
  async resume(): Promise<void> {
    const pending = await this.pending();
    if (pending) this.#listen(pending.replyTo);
  }

  async cancel(): Promise<void> {
    await this.replica.store.putSetting(PENDING, null);
  }

  /** What has come back so far, from the releases among `delivered`. */
  async progress(delivered: readonly Delivered[]): Promise<RecoveryProgress> {
    const pending = await this.pending();
    const best = this.#best(pending, delivered);
    return {
      pending,
      released: best?.from ?? [],
      threshold: best?.threshold ?? null,
      account: best?.account ?? pending?.account ?? null,
    };
  }

  /** The set with the most releases answering our requests. */
  #best(pending: PendingRecovery | null, delivered: readonly Delivered[]) {
    if (!pending) return null;
    const asked = new Map(pending.asked.filter((a) => a.request).map((a) => [a.request as Hash, a.friend]));
    const sets = new Map<string, { account: Identity; threshold: number; shares: string[]; from: Identity[] }>();
    for (const d of delivered) {
      const m = d.message as RecoveryOf<'recovery_release'>;
      if (m.type !== 'recovery_release' || !asked.has(m.request)) continue;
      const key = `${m.account} ${m.set} ${m.threshold}`;
      const group = sets.get(key) ?? { account: m.account, threshold: m.threshold, shares: [], from: [] };
      const friend = asked.get(m.request) as Identity;
      if (!group.from.includes(friend)) {
        group.from.push(friend);
        group.shares.push(m.share);
      }
      sets.set(key, group);
    }
    return [...sets.values()].sort((a, b) => b.shares.length / b.threshold - a.shares.length / a.threshold)[0] ?? null;
  }

  /**
   * Restore once a set has its threshold: rebuild the seed, check it is the
   * account's, and restore it here. Answers the account, once it came back.
   */
  tryRestore(delivered: readonly Delivered[], waitMs = 30_000): Promise<Identity | null> {
    this.#restoring ??= this.#restore(delivered, waitMs).finally(() => (this.#restoring = null));
    return this.#restoring;
  }

  async #restore(delivered: readonly Delivered[], waitMs: number): Promise<Identity | null> {
    const pending = await this.pending();
    const best = this.#best(pending, delivered);
    if (!pending || !best || best.shares.length < best.threshold) return null;
    const seed = await recoverSeed(best.shares, best.threshold, best.account);
    if (!seed.ok) throw new PeerError('bad_input', `the shares friends sent do not give the account back: ${seed.error.message}`);
    await this.synod.restoreSeed(seed.value, waitMs, pending.deviceName);
    await this.replica.store.putSetting(PENDING, null);
    await this.adoption.start(best.account);
    // The friends who gave the account back hold its feeds, and links are by consent (docs/peer.md,
    // Links): this device follows them at once, so it links with them and takes the account's old
    // devices' feeds (and so its follows) from them.
    for (const friend of best.from) {
      await this.replica.watch(friend, 'follow');
      const head = await this.replica.head(friend);
      if (head) await watchAlong(this.replica, this.keys.device.identity, head);
    }
    return best.account;
  }
}
