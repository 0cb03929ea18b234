/**
 * Conversations (docs/protocol.md §10.5): private notes and drops read as
 * messages between people, grouped into threads by who takes part.
 *
 * Sending writes one private note on this device's feed, sealed to the
 * people named and to our own readers: it is the sender's copy on every one
 * of our devices, and it reaches whoever replicates us. Each person who does
 * not follow us (as far as their feeds here tell) also gets a drop at a
 * dropbox, carrying our card so they see who wrote. Both copies share the
 * message id; readers keep one.
 */
import {
  MESSAGE_TEXT_CHARS,
  newMessageId,
  parseMessage,
  verifySender,
  type Entry,
  type Hash,
  type Identity,
  type Message,
  type SenderCard,
  type VerifiedSender,
} from '../protocol/index.ts';
import type { Dropbox } from './dropbox.ts';
import { PeerError } from './errors.ts';
import type { Keys } from './keys.ts';
import type { PrivateNotes } from './private-notes.ts';
import type { Replica } from './replica.ts';
import { trustedEntry } from './store.ts';

export interface ChatMessage {
  /** The message id (the entry hash for a plain note). */
  readonly id: string;
  readonly hash: Hash;
  /** The device that signed it. */
  readonly author: Identity;
  /** The person: the author's account when known (replicated, or proven by its card), else the device. */
  readonly from: Identity;
  /** The people it is for, as the sender named them; empty for a plain note of ours. */
  readonly to: readonly Identity[];
  readonly text: string;
  readonly at: number;
  readonly via: 'feed' | 'drop';
  /** Written before messages had a "to" line (or by another client): plain text. */
  readonly plain: boolean;
  /** The sender's account and profile, proven by the card a drop carried. */
  readonly sender?: VerifiedSender;
  /** Dropboxes the sender asked replies to go to. */
  readonly replyTo?: readonly string[];
  /** For drops: the dropbox it came through, and whether it was acknowledged. */
  readonly server?: string;
  readonly acknowledged: boolean;
}

export interface Thread {
  /** The other people, sorted and joined by spaces: the same people, the same thread. */
  readonly key: string;
  readonly people: readonly Identity[];
  /** Oldest first. */
  readonly messages: readonly ChatMessage[];
  readonly last: ChatMessage;
}

export interface SendOptions {
  /** The dropbox room for a person whose account we do not replicate (else theirs, from their synod). */
  via?: (person: Identity) => string | undefined;
  /** Devices known to read for a person (a device that wrote to us), sealed to besides their synod state. */
  devices?: (person: Identity) => readonly Identity[];
  timeoutMs?: number;
}

export interface SendResult {
  readonly id: string;
  /** The feed copy (ours, and the way in for people who replicate us). */
  readonly note: Entry | null;
  readonly dropped: readonly Identity[];
  readonly failed: readonly { identity: Identity; error: string }[];
}

/** Group messages by the people taking part, besides `me`; newest thread first. */
export function threadsOf(messages: readonly ChatMessage[], me: Identity): Thread[] {
  const byKey = new Map<string, ChatMessage[]>();
  const people = new Map<string, Identity[]>();
  for (const m of messages) {
    const others = [...new Set([m.from, ...m.to])].filter((i) => i !== me).sort();
    const list = others.length ? others : [me];
    const key = list.join(' ');
    people.set(key, list);
    byKey.set(key, [...(byKey.get(key) ?? []), m]);
  }
  return [...byKey]
    .map(([key, list]) => {
      const sorted = [...list].sort((a, b) => a.at - b.at);
      return { key, people: people.get(key) ?? [], messages: sorted, last: sorted.at(-1) as ChatMessage };
    })
    .sort((a, b) => b.last.at - a.last.at);
}

export class Conversations {
  /** Verified cards by author and card text: checking signatures once per card, not once per render. */
  #cards = new Map<string, VerifiedSender | null>();

  constructor(
    private readonly keys: Keys,
    private readonly replica: Replica,
    private readonly notes: PrivateNotes,
    private readonly dropbox: Dropbox,
  ) {}

  /** This person: the account, or the device before it has one. */
  get me(): Identity {
    return this.keys.synodIdentity ?? this.keys.device.identity;
  }

  /** The person an identity stands for: its account when we know it. */
  async personOf(identity: Identity): Promise<Identity> {
    if (this.replica.synod(identity)) return identity;
    return (await this.replica.synodOfDevice(identity))?.identity ?? identity;
  }

  /** Every message we can read, newest first, one per id. */
  async messages(perFeed = 1000): Promise<ChatMessage[]> {
    const out = new Map<string, ChatMessage>();
    for (const identity of this.replica.watched()) {
      for (const e of await this.replica.feed(identity, perFeed)) {
        if (e.body.payload.type !== 'private_note') continue;
        const text = this.notes.read(e);
        if (text === null) continue;
        const m = await this.#message(e, text, { via: 'feed', acknowledged: true });
        if (!out.has(m.id)) out.set(m.id, m);
      }
    }
    for (const item of await this.dropbox.inbox()) {
      if (item.text === null || this.replica.isBlocked(item.sender)) continue;
      const m = await this.#message(trustedEntry(item.hash, item.entry), item.text, {
        via: 'drop',
        acknowledged: item.acknowledged,
        server: item.server,
      });
      const feedCopy = out.get(m.id);
      // The feed copy wins, but a drop's card is how a stranger's name is known.
      if (!feedCopy) out.set(m.id, m);
      else if (m.sender && !feedCopy.sender) out.set(m.id, { ...feedCopy, sender: m.sender });
      if (m.sender && this.replica.isBlocked(m.sender.synod)) out.delete(m.id);
    }
    return [...out.values()].sort((a, b) => b.at - a.at);
  }

  /** Whether someone follows us, as far as their feeds held here say (their newest word on us wins). */
  async followsMe(identity: Identity): Promise<boolean> {
    const mine = new Set<Identity>([this.keys.device.identity]);
    const own = this.keys.synodIdentity;
    if (own) {
      mine.add(own);
      for (const d of this.replica.synod(own)?.devices.keys() ?? []) mine.add(d);
    }
    const state = this.replica.synod(identity);
    const feeds = state ? [identity, ...[...state.devices.values()].filter((d) => d.cut === null).map((d) => d.device)] : [identity];
    for (const feed of feeds) {
      for (const e of await this.replica.feed(feed, 2000)) {
        const p = e.body.payload;
        if ((p.type === 'follow' || p.type === 'block') && mine.has(p.identity)) {
          if (p.type === 'follow') return true;
          break;
        }
      }
    }
    return false;
  }

  /** Our card: the synod entry that added this device and the synod's profile, for people who do not replicate us. */
  async card(): Promise<SenderCard | undefined> {
    const synod = this.keys.synodIdentity;
    const state = synod ? this.replica.synod(synod) : undefined;
    const record = state?.devices.get(this.keys.device.identity);
    const added = record ? await this.replica.store.getEntry(record.addedIn) : undefined;
    if (!synod || !state || !added) return undefined;
    const profile = (await this.replica.feed(synod, 500)).find((e) => e.body.payload.type === 'identification');
    return {
      device: added.text,
      ...(profile && { profile: profile.text }),
      ...(state.dropboxes.length > 0 && { dropboxes: state.dropboxes.slice(0, 4) }),
    };
  }

  /**
   * Send `text` to people (accounts, or devices without one): drops first to
   * those who do not follow us, then the feed copy. Fails, sending nothing,
   * when no one could be reached; otherwise reports whom a drop missed.
   */
  async send(to: readonly Identity[], text: string, options: SendOptions = {}): Promise<SendResult> {
    const people = [...new Set(to)].filter((i) => i !== this.me && i !== this.keys.device.identity);
    const body = text.trim();
    if (people.length === 0) throw new PeerError('bad_input', 'say whom the message is for');
    if (!body) throw new PeerError('bad_input', 'write something first');
    if (body.length > MESSAGE_TEXT_CHARS) throw new PeerError('bad_input', `a message is at most ${MESSAGE_TEXT_CHARS} characters`);
    const message: Message = { type: 'message', id: newMessageId(), to: people, text: body };
    const followers: Identity[] = [];
    const strangers: Identity[] = [];
    for (const p of people) ((await this.followsMe(p)) ? followers : strangers).push(p);
    const dropped: Identity[] = [];
    const failed: { identity: Identity; error: string }[] = [];
    if (strangers.length > 0) {
      const card = await this.card();
      const dropText = JSON.stringify({ ...message, ...(card && { from: card }) });
      for (const p of strangers) {
        try {
          await this.dropbox.send(p, dropText, options.via?.(p), options.timeoutMs, options.devices?.(p) ?? []);
          dropped.push(p);
        } catch (err) {
          failed.push({ identity: p, error: (err as Error).message });
        }
      }
    }
    if (followers.length === 0 && dropped.length === 0) throw new PeerError('not_found', failed[0]?.error ?? 'no one could be reached');
    const note = await this.notes.send(JSON.stringify(message), people);
    return { id: message.id, note, dropped, failed };
  }

  async #message(
    entry: Entry,
    plaintext: string,
    extra: { via: 'feed' | 'drop'; acknowledged: boolean; server?: string },
  ): Promise<ChatMessage> {
    const parsed = parseMessage(plaintext);
    const author = entry.body.identity;
    const sender = parsed?.from ? await this.#verify(parsed.from, author) : undefined;
    const ours = author === this.keys.device.identity || (await this.personOf(author)) === this.keys.synodIdentity;
    let from = ours ? this.me : await this.personOf(author);
    if (from === author && sender) from = sender.synod;
    return {
      id: parsed?.id ?? entry.hash,
      hash: entry.hash,
      author,
      from,
      to: parsed ? parsed.to : ours ? [] : [this.me],
      text: parsed?.text ?? plaintext,
      at: entry.body.comparable,
      plain: !parsed,
      ...(sender && { sender }),
      ...(parsed?.from?.dropboxes && { replyTo: parsed.from.dropboxes }),
      ...extra,
    };
  }

  async #verify(card: SenderCard, author: Identity): Promise<VerifiedSender | undefined> {
    const key = `${author} ${card.device} ${card.profile ?? ''}`;
    if (!this.#cards.has(key)) {
      const r = await verifySender(card, author);
      if (this.#cards.size > 500) this.#cards.clear();
      this.#cards.set(key, r.ok ? r.value : null);
    }
    return this.#cards.get(key) ?? undefined;
  }
}
