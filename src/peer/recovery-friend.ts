/**
 * Recovery, the friend's side (docs/protocol.md §9.6): keeping the shares
 * friends' accounts send, forgetting them when revoked, and answering a
 * request from a new device — only with the code the person reads out, the
 * deliberate confirmation — by releasing the share sealed to that device
 * alone, and logging the release on this person's own feed.
 */
import {
  normalizeRecoveryCode,
  readRecovery,
  recoveryDrop,
  trustedEntry,
  type Entry,
  type Hash,
  type Identity,
  type RecoveryMessage,
  type RecoveryOf,
} from '../protocol/index.ts';
import { dropAt } from './courier.ts';
import { dropboxRoom } from './dropbox.ts';
import { PeerError } from './errors.ts';
import { openingSeeds, type Keys } from './keys.ts';
import type { Mesh } from './mesh.ts';
import type { Held, RecoveryRecords } from './recovery-records.ts';
import type { Replica } from './replica.ts';
import type { InboxItem } from './store.ts';

const DECLINED = 'recovery-declined';

/** A recovery message that came as a drop, with the drop it came in. */
export interface Delivered<T extends RecoveryMessage = RecoveryMessage> {
  readonly message: T;
  readonly entry: Entry;
  readonly item: InboxItem;
}

export interface PendingRequest {
  readonly hash: Hash;
  /** The new device asking. */
  readonly device: Identity;
  readonly name: string;
  readonly account?: Identity;
  readonly receivedAt: number;
  /** The shares this person holds that it may be asking for: the named account's, else all. */
  readonly candidates: readonly Held[];
}

/** The recovery message a drop carries for one of our keys, or null. */
export function readDelivered(item: InboxItem, keys: Keys): Delivered | null {
  const entry = trustedEntry(item.hash, item.entry);
  const message = readRecovery(entry, openingSeeds(keys));
  return message ? { message, entry, item } : null;
}

export class RecoveryFriend {
  /** Inbox items opened already, by hash (null: not a recovery message for us). */
  #opened = new Map<Hash, Delivered | null>();

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly mesh: Mesh,
    private readonly records: RecoveryRecords,
  ) {}

  /**
   * A share or a revocation arrived: keep or forget. Only the account itself
   * (its synod key signs the drop) speaks for its shares. Answers whether
   * anything changed.
   */
  async received(d: Delivered): Promise<boolean> {
    const { message, entry } = d;
    if (message.type === 'recovery_share') {
      if (entry.body.identity !== message.account || (await this.records.keeps(entry.hash))) return false;
      await this.records.write({ type: 'recovery_kept', entry: entry.hash, issued: entry.body.comparable, share: message });
      return true;
    }
    if (message.type === 'recovery_revoke') {
      if (entry.body.identity !== message.account) return false;
      const held = (await this.records.held()).find((h) => h.share.account === message.account && h.share.set === message.set);
      if (!held) return false;
      await this.records.write({ type: 'recovery_forgotten', account: message.account, set: message.set });
      return true;
    }
    return false;
  }

  held = (): Promise<Held[]> => this.records.held();
  log = () => this.records.released();

  /** Requests waiting for this person: only while it holds a share, never one answered or declined. */
  async pending(): Promise<PendingRequest[]> {
    const held = await this.records.held();
    if (held.length === 0) return [];
    const answered = new Set((await this.records.released()).map((r) => r.record.request));
    const declined = new Set((await this.replica.store.getSetting<Hash[]>(DECLINED)) ?? []);
    const out: PendingRequest[] = [];
    for (const d of await this.#requests()) {
      if (answered.has(d.entry.hash) || declined.has(d.entry.hash)) continue;
      const m = d.message;
      const candidates = m.account ? held.filter((h) => h.share.account === m.account) : held;
      if (candidates.length === 0) continue;
      out.push({
        hash: d.entry.hash,
        device: d.entry.body.identity,
        name: m.name,
        ...(m.account && { account: m.account }),
        receivedAt: d.item.receivedAt,
        candidates,
      });
    }
    return out.sort((a, b) => b.receivedAt - a.receivedAt);
  }

  /**
   * Release the share held for `account` to the device that sent request
   * `hash`, if `typedCode` is the code that request carries (the person read
   * it out to this one). A wrong code sends nothing.
   */
  async release(hash: Hash, account: Identity, typedCode: string, timeoutMs?: number): Promise<Entry> {
    const d = (await this.#requests()).find((r) => r.entry.hash === hash);
    if (!d) throw new PeerError('not_found', 'that request is not here any more');
    if (normalizeRecoveryCode(typedCode) !== d.message.code)
      throw new PeerError('bad_input', 'that is not the code on their screen: nothing was sent. Ask them to read it again.');
    if (d.message.account && d.message.account !== account) throw new PeerError('bad_input', 'this request is for another account');
    const held = (await this.records.held()).find((h) => h.share.account === account);
    if (!held) throw new PeerError('not_found', 'you hold no share for that account');
    const device = d.entry.body.identity;
    const { share } = held;
    const release = await recoveryDrop(this.keys.device, [device], {
      type: 'recovery_release',
      account,
      set: share.set,
      threshold: share.threshold,
      friends: share.friends,
      share: share.share,
      request: hash,
    });
    await dropAt(this.mesh, dropboxRoom(d.message.replyTo[0] as string), device, release, timeoutMs);
    await this.records.write({
      type: 'recovery_released',
      account,
      set: share.set,
      to: device,
      request: hash,
      ...(share.name && { name: share.name }),
    });
    return release;
  }

  /** Not answering this request; it stays off the list (the sender is not told). */
  async decline(hash: Hash): Promise<void> {
    const declined = (await this.replica.store.getSetting<Hash[]>(DECLINED)) ?? [];
    await this.replica.store.putSetting(DECLINED, [...new Set([...declined, hash])].slice(-500));
  }

  /** The recovery message of an inbox item, opened once. */
  read(item: InboxItem): Delivered | null {
    if (!this.#opened.has(item.hash)) {
      if (this.#opened.size > 5000) this.#opened.clear();
      this.#opened.set(item.hash, readDelivered(item, this.keys));
    }
    return this.#opened.get(item.hash) ?? null;
  }

  async #requests(): Promise<Delivered<RecoveryOf<'recovery_request'>>[]> {
    const out: Delivered<RecoveryOf<'recovery_request'>>[] = [];
    for (const item of await this.replica.store.inbox()) {
      if (this.replica.isBlocked(item.sender)) continue;
      const d = this.read(item);
      if (d?.message.type === 'recovery_request') out.push(d as Delivered<RecoveryOf<'recovery_request'>>);
    }
    return out;
  }
}
