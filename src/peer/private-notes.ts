/**
 * Private notes (design: private_note, "note to people with readkeys"):
 * sealed in this peer to the readers of the people chosen and to the
 * author's own readers, so every device of the author can read what it
 * wrote. A synod's readers are its key and its live devices; a device alone
 * reads for itself. Mutes are sealed the same way, to the author only.
 */
import { fromUtf8, open, seal, synodReaders, utf8, type Entry, type EnvelopeKind, type Identity } from '../protocol/index.ts';
import { openingSeeds, type Keys } from './keys.ts';
import type { Publisher } from './publisher.ts';
import type { AccountReadKeys } from './read-keys.ts';
import type { Replica } from './replica.ts';

export class PrivateNotes {
  /** Keys another device of the account gave this one, for what was sealed before it joined (read-keys.ts). */
  given: AccountReadKeys | null = null;

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly publisher: Publisher,
  ) {}

  /** Who can read what is sealed for `identity`. */
  async readersFor(identity: Identity): Promise<Identity[]> {
    const state = this.replica.synod(identity) ?? (await this.replica.synodOfDevice(identity))?.state;
    return state ? synodReaders(state) : [identity];
  }

  /** A note only the given identities (and their synods' devices) and this person can read. */
  async send(text: string, to: readonly Identity[]): Promise<Entry> {
    const readers = new Set(await this.ownReaders());
    for (const identity of to) for (const r of await this.readersFor(identity)) readers.add(r);
    return this.publisher.publish({ type: 'private_note', envelope: this.#seal(text, 'private_note', [...readers]) });
  }

  /** A block nobody else can read: sealed to this person's own readers. */
  async mute(identity: Identity): Promise<Entry> {
    const envelope = this.#seal(JSON.stringify({ type: 'block', identity }), 'mute', await this.ownReaders());
    return this.publisher.publish({ type: 'mute', envelope });
  }

  /** The plaintext of a private note or mute, if one of our keys reads it. */
  read(entry: Entry): string | null {
    const p = entry.body.payload;
    if (p.type !== 'private_note' && p.type !== 'mute') return null;
    for (const seed of openingSeeds(this.keys)) {
      const opened = open(p.envelope, seed, entry.body.identity, p.type);
      if (opened.ok) return fromUtf8(opened.value.plaintext);
    }
    const given = this.given?.open(entry, p.type);
    return given ? fromUtf8(given) : null;
  }

  async ownReaders(): Promise<Identity[]> {
    const { device, synodIdentity } = this.keys;
    return synodIdentity ? [...new Set([device.identity, ...(await this.readersFor(synodIdentity))])] : [device.identity];
  }

  #seal(text: string, kind: EnvelopeKind, readers: Identity[]): string {
    return seal(utf8(text), { author: this.keys.device.identity, kind, readers }).envelope;
  }
}
