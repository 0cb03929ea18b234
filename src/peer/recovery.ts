/**
 * Recovery through friends (design: "check in with your actual social
 * network to recover from a disaster"; docs/protocol.md §9.6), one door for
 * the app: the account's side (recovery-owner.ts), the friend's
 * (recovery-friend.ts) and the new device's (recovery-restore.ts). Every
 * message between them is a drop; this routes the ones that arrive.
 */
import type { Hash, Identity } from '../protocol/index.ts';
import { FollowAdoption } from './adopt-follows.ts';
import { Emitter } from './events.ts';
import type { Keys } from './keys.ts';
import type { Mesh } from './mesh.ts';
import type { PrivateNotes } from './private-notes.ts';
import type { Publisher } from './publisher.ts';
import { RecoveryFriend, type Delivered, type PendingRequest } from './recovery-friend.ts';
import { RecoveryOwner, type ChooseOptions, type ChooseResult } from './recovery-owner.ts';
import { RecoveryRecords, type Held, type Released, type RecoverySet } from './recovery-records.ts';
import { RecoveryRestore, type AskOptions, type PendingRecovery, type RecoveryProgress } from './recovery-restore.ts';
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
}

export class Recovery {
  readonly events = new Emitter<RecoveryEvents>();
  readonly #owner: RecoveryOwner;
  readonly #friend: RecoveryFriend;
  readonly #restore: RecoveryRestore;
  readonly #replica: Replica;
  /** Why the last attempt to restore failed (the account's feed not found yet, shares that do not fit). */
  #failure: string | null = null;

  constructor(parts: RecoveryParts) {
    const { keys, replica, mesh, notes, publisher, synod } = parts;
    const records = new RecoveryRecords(keys, replica, publisher);
    this.#replica = replica;
    this.#owner = new RecoveryOwner(keys, replica, mesh, notes, records);
    this.#friend = new RecoveryFriend(keys, replica, mesh, records);
    this.#restore = new RecoveryRestore(keys, replica, mesh, notes, synod, new FollowAdoption(keys, replica, notes));
  }

  // --- the account --------------------------------------------------------

  /** Split the account among `friends`, any `threshold` of whom can give it back (revoking the previous set). */
  chooseFriends = (friends: readonly Identity[], threshold: number, options?: ChooseOptions): Promise<ChooseResult> =>
    this.#owner.choose(friends, threshold, options).finally(() => this.events.emit('changed', undefined));
  currentSet = (): Promise<RecoverySet | null> => this.#owner.currentSet();

  // --- a friend -------------------------------------------------------------

  held = (): Promise<Held[]> => this.#friend.held();
  requests = (): Promise<PendingRequest[]> => this.#friend.pending();
  log = (): Promise<Released[]> => this.#friend.log();
  /** Release our share of `account` to the device that asked, if `code` is the one it showed its person. */
  release = async (request: Hash, account: Identity, code: string, timeoutMs?: number): Promise<void> => {
    await this.#friend.release(request, account, code, timeoutMs);
    this.events.emit('changed', undefined);
  };
  decline = async (request: Hash): Promise<void> => {
    await this.#friend.decline(request);
    this.events.emit('changed', undefined);
  };

  // --- a new device -----------------------------------------------------------

  ask = async (friends: readonly Identity[], name: string, options: AskOptions): Promise<PendingRecovery> => {
    const pending = await this.#restore.ask(friends, name, options);
    this.events.emit('changed', undefined);
    return pending;
  };
  /** The recovery this device is asking for, if any. */
  pending = (): Promise<PendingRecovery | null> => this.#restore.pending();
  progress = async (): Promise<RecoveryProgress & { failure: string | null }> => ({
    ...(await this.#restore.progress(await this.#delivered())),
    failure: this.#failure,
  });
  /** Try again to restore with the shares that came (after a failure: the account's feed was not found in time). */
  retry = async (): Promise<boolean> => (await this.#tryRestore()) !== null;
  cancel = async (): Promise<void> => {
    await this.#restore.cancel();
    this.events.emit('changed', undefined);
  };

  // --- drops ------------------------------------------------------------------

  /** At start: what came while the app was closed, and rooms to wait in for a recovery under way. */
  async start(): Promise<void> {
    await this.#restore.resume();
    for (const item of await this.#replica.store.inbox()) await this.received(item);
  }

  /** A drop was kept in the inbox: if it is about recovery, act on it. */
  async received(item: InboxItem): Promise<void> {
    const d = this.#friend.read(item);
    if (!d) return;
    try {
      if (d.message.type === 'recovery_share' || d.message.type === 'recovery_revoke') {
        if (await this.#friend.received(d)) this.events.emit('changed', undefined);
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
      const account = await this.#restore.tryRestore(await this.#delivered());
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
    return (await this.#replica.store.inbox()).map((i) => this.#friend.read(i)).filter((d): d is Delivered => d !== null);
  }
}
