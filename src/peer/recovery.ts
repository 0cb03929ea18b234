/**
 * Recovery through friends (design: "check in with your actual social
 * network to recover from a disaster"; docs/protocol.md §9.6), one door for
 * the app: the account's side (recovery-owner.ts), the friend's
 * (recovery-friend.ts) and the new device's (recovery-restore.ts). Every
 * message between them is a drop; this routes the ones that arrive.
 */
import type { Hash, Identity } from '../protocol/index.ts';
import type { FollowAdoption } from './adopt-follows.ts';
import { Emitter } from './events.ts';
import type { Keys } from './keys.ts';
import type { Mesh } from './mesh.ts';
import type { PrivateNotes } from './private-notes.ts';
import type { Publisher } from './publisher.ts';
import type { Delivered, PendingRequest, RecoveryFriend } from './recovery-friend.ts';
import type { ChooseOptions, ChooseResult, RecoveryOwner } from './recovery-owner.ts';
import type { Held, Released, RecoverySet } from './recovery-records.ts';
import type { AskOptions, PendingRecovery, RecoveryProgress, RecoveryRestore } from './recovery-restore.ts';
import type { Replica } from './replica.ts';
import type { InboxItem } from './store.ts';
import type { SynodAccount } from './synod.ts';

export type { Held, PendingRequest, PendingRecovery, RecoveryProgress, Released, RecoverySet, ChooseResult };

export interface RecoveryEvents {
  /** Something to show changed: a share kept or forgotten, a request, a release. */
  changed: void;
  /** The account came back on this device. */
  restored: Identity;
  log: string;
}

export interface RecoveryParts {
  keys: Keys;
  replica: Replica;
  mesh: Mesh;
  notes: PrivateNotes;
  publisher: Publisher;
  synod: SynodAccount;
  /** The account's follows, blocks and mutes, merged across its feeds: a restored device merges at once. */
  relations: FollowAdoption;
}

interface Sides {
  owner: RecoveryOwner;
  friend: RecoveryFriend;
  restore: RecoveryRestore;
}

/**
 * The three sides load on first use (in practice just after start-up, to read
 * the inbox): most sessions never recover anything, and the app's first paint
 * should not wait for this code.
 */
async function loadSides(parts: RecoveryParts): Promise<Sides> {
  const [{ RecoveryFriend }, { RecoveryOwner }, { RecoveryRecords }, { RecoveryRestore }] = await Promise.all([
    import('./recovery-friend.ts'),
    import('./recovery-owner.ts'),
    import('./recovery-records.ts'),
    import('./recovery-restore.ts'),
  ]);
  const { keys, replica, mesh, notes, publisher, synod, relations } = parts;
  const records = new RecoveryRecords(keys, replica, publisher, () => notes.given);
  return {
    owner: new RecoveryOwner(keys, replica, mesh, notes, records),
    friend: new RecoveryFriend(keys, replica, mesh, records),
    restore: new RecoveryRestore(keys, replica, mesh, notes, synod, relations),
  };
}

export class Recovery {
  readonly events = new Emitter<RecoveryEvents>();
  readonly #parts: RecoveryParts;
  #sides: Promise<Sides> | null = null;
  readonly #replica: Replica;
  /** Why the last attempt to restore failed (the account's feed not found yet, shares that do not fit). */
  #failure: string | null = null;

  constructor(parts: RecoveryParts) {
    this.#parts = parts;
    this.#replica = parts.replica;
  }

  #load = (): Promise<Sides> => (this.#sides ??= loadSides(this.#parts));

  // --- the account --------------------------------------------------------

  /** Split the account among `friends`, any `threshold` of whom can give it back (revoking the previous set). */
  chooseFriends = (friends: readonly Identity[], threshold: number, options?: ChooseOptions): Promise<ChooseResult> =>
    this.#load()
      .then((s) => s.owner.choose(friends, threshold, options))
      .finally(() => this.events.emit('changed', undefined));
  currentSet = async (): Promise<RecoverySet | null> => (await this.#load()).owner.currentSet();

  // --- a friend -------------------------------------------------------------

  held = async (): Promise<Held[]> => (await this.#load()).friend.held();
  requests = async (): Promise<PendingRequest[]> => (await this.#load()).friend.pending();
  log = async (): Promise<Released[]> => (await this.#load()).friend.log();
  /** Release our share of `account` to the device that asked, if `code` is the one it showed its person. */
  release = async (request: Hash, account: Identity, code: string, timeoutMs?: number): Promise<void> => {
    await (await this.#load()).friend.release(request, account, code, timeoutMs);
    this.events.emit('changed', undefined);
  };
  decline = async (request: Hash): Promise<void> => {
    await (await this.#load()).friend.decline(request);
    this.events.emit('changed', undefined);
  };

  // --- a new device -----------------------------------------------------------

  ask = async (friends: readonly Identity[], name: string, options: AskOptions): Promise<PendingRecovery> => {
    const pending = await (await this.#load()).restore.ask(friends, name, options);
    this.events.emit('changed', undefined);
    return pending;
  };
  /** The recovery this device is asking for, if any. */
  pending = async (): Promise<PendingRecovery | null> => (await this.#load()).restore.pending();
  progress = async (): Promise<RecoveryProgress & { failure: string | null }> => ({
    ...(await (await this.#load()).restore.progress(await this.#delivered())),
    failure: this.#failure,
  });
  /** Try again to restore with the shares that came (after a failure: the account's feed was not found in time). */
  retry = async (): Promise<boolean> => (await this.#tryRestore()) !== null;
  cancel = async (): Promise<void> => {
    await (await this.#load()).restore.cancel();
    this.events.emit('changed', undefined);
  };

  // --- drops ------------------------------------------------------------------

  /** At start: what came while the app was closed, and rooms to wait in for a recovery under way. */
  async start(): Promise<void> {
    await (await this.#load()).restore.resume();
    for (const item of await this.#replica.store.inbox()) await this.received(item);
  }

  /** A drop was kept in the inbox: if it is about recovery, act on it. */
  async received(item: InboxItem): Promise<void> {
    const { friend } = await this.#load();
    const d = friend.read(item);
    if (!d) return;
    try {
      if (d.message.type === 'recovery_share' || d.message.type === 'recovery_revoke') {
        if (await friend.received(d)) this.events.emit('changed', undefined);
      } else if (d.message.type === 'recovery_request') {
        this.events.emit('changed', undefined);
      } else if (d.message.type === 'recovery_release') {
        this.events.emit('changed', undefined);
        await this.#tryRestore();
      }
    } catch (err) {
      this.events.emit('log', `recovery: ${(err as Error).message}`);
    }
  }

  async #tryRestore(): Promise<Identity | null> {
    try {
      const account = await (await this.#load()).restore.tryRestore(await this.#delivered());
      this.#failure = null;
      if (account) this.events.emit('restored', account);
      return account;
    } catch (err) {
      this.#failure = (err as Error).message;
      this.events.emit('changed', undefined);
      throw err;
    }
  }

  async #delivered(): Promise<Delivered[]> {
    const { friend } = await this.#load();
    return (await this.#replica.store.inbox()).map((i) => friend.read(i)).filter((d): d is Delivered => d !== null);
  }
}
