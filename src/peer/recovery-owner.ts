/**
 * Recovery, the account's side (docs/protocol.md §9.6): choosing n friends
 * and a threshold k, splitting the synod seed afresh, and dropping each
 * friend one share signed by the synod key and sealed to that friend's
 * readers. Changing the set re-splits (a new set id, a new polynomial) and
 * asks friends who are no longer in it to forget theirs.
 *
 * What "revoke" can mean: the secret is the synod seed, and the seed cannot
 * change without changing who the account is. So old shares stay points of
 * the old polynomial of the same seed: a friend's app that is told forgets
 * its share and refuses to release it, and shares of different sets never
 * combine (they lie on different polynomials), but k holders of the old set
 * who kept copies on purpose could still rebuild the seed together. Only a
 * new account (a new synod key) takes that power back entirely.
 */
import { newRecoverySet, recoveryDrop, splitSeed, type Identity } from '../protocol/index.ts';
import { dropAt } from './courier.ts';
import { dropboxRoom } from './dropbox.ts';
import { PeerError } from './errors.ts';
import type { Keys } from './keys.ts';
import type { Mesh } from './mesh.ts';
import type { PrivateNotes } from './private-notes.ts';
import type { RecoveryRecords, RecoverySet } from './recovery-records.ts';
import type { Replica } from './replica.ts';

export interface ChooseOptions {
  /** A dropbox room for a friend whose account does not list one (the server this app uses). */
  fallback?: string;
  timeoutMs?: number;
}

export interface ChooseResult {
  readonly set: string;
  readonly sent: readonly Identity[];
  readonly failed: readonly { identity: Identity; error: string }[];
  /** Friends of the previous set asked to forget their share. */
  readonly revoked: readonly Identity[];
}

export class RecoveryOwner {
  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly mesh: Mesh,
    private readonly notes: PrivateNotes,
    private readonly records: RecoveryRecords,
  ) {}

  currentSet = (): Promise<RecoverySet | null> => this.records.currentSet();

  /** Where drops for `friend` go: the first dropbox its account lists, else the fallback. */
  #room(friend: Identity, fallback?: string): string {
    const listed = this.replica.synod(friend)?.dropboxes[0];
    const url = listed ? dropboxRoom(listed) : fallback;
    if (!url) throw new PeerError('bad_input', 'no dropbox known for this friend: give a server');
    return url;
  }

  /**
   * Split the account afresh among `friends`, any `threshold` of whom can give
   * it back. Fails, sending nothing, when fewer than `threshold` could be
   * reached; the set is recorded once enough shares are out.
   */
  async choose(friends: readonly Identity[], threshold: number, options: ChooseOptions = {}): Promise<ChooseResult> {
    const synod = this.keys.synod;
    if (!synod) throw new PeerError('not_synod_holder', 'only a device holding the account key can choose recovery friends');
    const chosen = [...new Set(friends)].filter((f) => f !== synod.identity && f !== this.keys.device.identity);
    if (chosen.length < 2) throw new PeerError('bad_input', 'choose at least two friends');
    if (threshold < 2 || threshold > chosen.length) throw new PeerError('bad_input', `the threshold is 2 to ${chosen.length}`);
    const previous = await this.records.currentSet();
    const set = newRecoverySet();
    const shares = await splitSeed(synod.seed, chosen.length, threshold);
    const name = this.replica.synod(synod.identity)?.profile.name?.slice(0, 64);
    const sent: Identity[] = [];
    const failed: { identity: Identity; error: string }[] = [];
    // One at a time: two drops joining the same room for the occasion would close it under each other.
    for (const [i, friend] of chosen.entries()) {
      try {
        const drop = await recoveryDrop(synod, await this.notes.readersFor(friend), {
          type: 'recovery_share',
          account: synod.identity,
          set,
          threshold,
          friends: chosen.length,
          share: shares[i] as string,
          ...(name && { name }),
        });
        await dropAt(this.mesh, this.#room(friend, options.fallback), friend, drop, options.timeoutMs);
        sent.push(friend);
      } catch (err) {
        failed.push({ identity: friend, error: (err as Error).message });
      }
    }
    if (sent.length < threshold) {
      throw new PeerError(
        'not_found',
        `only ${sent.length} of ${chosen.length} friends could be reached (${threshold} are needed): ${failed[0]?.error ?? ''}`,
      );
    }
    await this.records.write({ type: 'recovery_set', set, threshold, friends: chosen });
    const revoked = previous ? await this.#revoke(previous.record.set, previous.record.friends, chosen, options) : [];
    return { set, sent, failed, revoked };
  }

  /** Ask friends of the old set who are not in the new one to forget their share (those in both get a newer share). */
  async #revoke(set: string, before: readonly Identity[], now: readonly Identity[], options: ChooseOptions): Promise<Identity[]> {
    const synod = this.keys.synod;
    if (!synod) return [];
    const gone = before.filter((f) => !now.includes(f));
    const told: Identity[] = [];
    for (const friend of gone) {
      try {
        const drop = await recoveryDrop(synod, await this.notes.readersFor(friend), {
          type: 'recovery_revoke',
          account: synod.identity,
          set,
        });
        await dropAt(this.mesh, this.#room(friend, options.fallback), friend, drop, options.timeoutMs);
        told.push(friend);
      } catch {
        // Told next time the set changes; until then their app still holds a share of a set we left.
      }
    }
    return told;
  }
}
