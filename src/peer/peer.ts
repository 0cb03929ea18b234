/**
 * The peer engine: one object an app holds. It owns the replica (storage
 * and validation), the mesh (rooms and links), and the person's keys, and
 * offers what people do: make or restore an account, pair devices, post,
 * follow, block, mute, write privately, read the timeline, share blobs.
 * Each of those lives in its own module; this facade wires them together.
 */
import {
  type BlobRef,
  type DirectoryItem,
  type Entry,
  type EntryRef,
  type Hash,
  type Identity,
  type Payload,
  type Service,
  type SynodState,
} from '../protocol/index.ts';
import { AccountLease } from './account-lease.ts';
import { addBlob, addCollection, getBlob } from './blobs.ts';
import { Consent } from './consent.ts';
import { Conversations, type ChatMessage, type SendOptions, type SendResult } from './conversations.ts';
import { Dropbox, type InboxMessage } from './dropbox.ts';
import { PeerError } from './errors.ts';
import { Emitter } from './events.ts';
import { loadKeys, type Keys } from './keys.ts';
import type { LinkLimits } from './link-rules.ts';
import { requestLease, type LeaseGrant } from './lease.ts';
import type { BlobProgress, SyncProgress } from './link.ts';
import { Mesh, type PeerLinkInfo } from './mesh.ts';
import { holdPairing, joinPairing, type PairingRun } from './pairing.ts';
import type { Privacy } from './privacy.ts';
import { PrivateNotes } from './private-notes.ts';
import { Publisher } from './publisher.ts';
import { Recovery } from './recovery.ts';
import { Replica, type ReplicaEvents } from './replica.ts';
import type { RoomClient, RoomStatus } from './room-client.ts';
import type { RtcOptions } from './rtc-channel.ts';
import type { StoredHead, Store } from './store.ts';
import { SynodAccount, type SynodProfile, type SynodServers } from './synod.ts';
import { watchAlong } from './watching.ts';

export { dropboxRoom, type InboxMessage } from './dropbox.ts';
export { PeerError } from './errors.ts';

export interface PeerEvents {
  drop: InboxMessage;
  entry: Entry;
  head: StoredHead;
  rejected: ReplicaEvents['rejected'];
  peer: PeerLinkInfo & { connected: boolean };
  room: { url: string; status: RoomStatus };
  blob: BlobProgress;
  sync: SyncProgress;
  log: string;
  /** A room took entries of a feed we sign for, up to `comparable`: they are published. */
  published: { identity: Identity; comparable: number };
}

export interface PeerOptions {
  store: Store;
  /** WebRTC settings (ICE servers); without them links use the room relay. */
  rtc?: () => Promise<RtcOptions>;
  WebSocket?: unknown;
  /** The services this peer offers others. */
  provides?: readonly Service[];
  /** Caps on peer links (LINK_LIMITS by default: 24, of which 3 pubs). */
  linkLimits?: LinkLimits;
  /**
   * Keep per-peer notes with the peers it watches (docs/protocol.md §13.7), so
   * reconnecting costs what changed (default). False: the full get_heads
   * exchange on every connection (benchmarks compare the two).
   */
  notes?: boolean;
}

export class Peer {
  readonly events = new Emitter<PeerEvents>();
  readonly mesh: Mesh;
  /** Relations and privacy choices: whom we link with, watch and allow (consent.ts). */
  readonly consent: Consent;
  /** Recovery through friends (recovery.ts): the account's friends, shares held for others, a new device asking. */
  readonly recovery: Recovery;
  readonly #keys: Keys;
  readonly #publisher: Publisher;
  readonly #synod: SynodAccount;
  readonly #notes: PrivateNotes;
  readonly #dropbox: Dropbox;
  readonly #accountLease: AccountLease;
  readonly #conversations: Conversations;
  readonly #WebSocket: unknown;

  private constructor(
    readonly replica: Replica,
    keys: Keys,
    options: PeerOptions,
  ) {
    this.#keys = keys;
    this.consent = new Consent(replica, () => ({ device: keys.device.identity, synod: keys.synodIdentity }));
    this.mesh = new Mesh({
      keys: keys.device,
      replica,
      consent: this.consent,
      provides: options.provides ?? ['blobs', 'headtracking'],
      head: async () => (await replica.head(keys.device.identity))?.hash ?? null,
      rtc: options.rtc ?? null,
      ...(options.linkLimits && { limits: options.linkLimits }),
      notes: options.notes ?? true,
      ...(options.WebSocket !== undefined && { WebSocket: options.WebSocket }),
    });
    this.#publisher = new Publisher(keys, replica, this.mesh, (identity, comparable) =>
      this.events.emit('published', { identity, comparable }),
    );
    this.#synod = new SynodAccount(keys, replica, this.#publisher);
    this.#notes = new PrivateNotes(keys, replica, this.#publisher);
    this.#dropbox = new Dropbox(keys, replica, this.mesh, this.#notes);
    this.#accountLease = new AccountLease(keys, replica, (line) => this.events.emit('log', line));
    this.#conversations = new Conversations(keys, replica, this.#notes, this.#dropbox);
    this.recovery = new Recovery({ keys, replica, mesh: this.mesh, notes: this.#notes, publisher: this.#publisher, synod: this.#synod });
    this.#WebSocket = options.WebSocket;
    this.#wire();
  }

  static async open(options: PeerOptions): Promise<Peer> {
    const replica = await Replica.open(options.store);
    const keys = await loadKeys(options.store);
    const peer = new Peer(replica, keys, options);
    await peer.consent.open();
    await peer.#publisher.loadPublished();
    await replica.watch(keys.device.identity, 'self');
    if (keys.synodIdentity) await replica.watch(keys.synodIdentity, 'synod');
    void peer.recovery.start().catch((err: Error) => peer.events.emit('log', `recovery: ${err.message}`));
    return peer;
  }

  get identity(): Identity {
    return this.#keys.device.identity;
  }
  get synodIdentity(): Identity | null {
    return this.#keys.synodIdentity;
  }
  get holdsSynodKey(): boolean {
    return this.#keys.synod !== null;
  }
  synodState(identity: Identity | null = this.#keys.synodIdentity): SynodState | undefined {
    return identity ? this.replica.synod(identity) : undefined;
  }

  // --- the account (synod.ts) ---------------------------------------------

  mnemonic = (): Promise<string | null> => this.#synod.mnemonic();
  createSynod = (profile?: SynodProfile, servers?: SynodServers, deviceName?: string): Promise<{ mnemonic: string }> =>
    this.#synod.create(profile, servers, deviceName);
  restoreSynod = (words: string, waitMs = 15_000, deviceName?: string): Promise<void> => this.#synod.restore(words, waitMs, deviceName);
  pairingCode = (synod: Identity): Promise<string> => this.#synod.pairingCode(synod);
  acceptPairing = (code: string, name?: string): Promise<Entry> => this.#synod.acceptPairing(code, name);
  revokeDevice = (device: Identity, cut?: number): Promise<Entry> => this.#synod.revokeDevice(device, cut);
  renameDevice = (device: Identity, name: string): Promise<Entry> => this.#synod.renameDevice(device, name);

  // --- pairing by code (pairing.ts) -----------------------------------------

  /** On the device holding the synod key: admit the device that shows or types `code`, meeting at `server`. */
  holdPairing(code: string, server: string, deviceName?: string): PairingRun<{ device: Identity; name?: string }> {
    const synod = this.#keys.synod;
    if (!synod) throw new PeerError('not_synod_holder', 'only a device holding the synod key can add devices');
    const name = this.replica.synod(synod.identity)?.profile.name;
    return holdPairing(this.#pairingOptions(), { identity: synod.identity, ...(name && { name }) }, code, server, deviceName);
  }

  /** On a new device: join the account offered under `code` at `server`, asking to be called `name`. */
  joinPairing(code: string, server: string, name?: string, timeoutMs?: number): PairingRun<{ synod: Identity; name?: string }> {
    return joinPairing(this.#pairingOptions(), this.identity, code, server, name, timeoutMs);
  }
  setServers = (signalling: string[], dropboxes: string[]): Promise<Entry> => this.#synod.setServers(signalling, dropboxes);
  setProfile = (profile: SynodProfile & { avatar?: BlobRef }): Promise<Entry> => this.#synod.setProfile(profile);

  // --- publishing (publisher.ts) and relations ----------------------------

  publish = (payload: Payload): Promise<Entry> => this.#publisher.publish(payload);
  postNote = (text: string): Promise<Entry> => this.publish({ type: 'public_note', text });
  comment = (target: EntryRef, text: string): Promise<Entry> => this.publish({ type: 'comment', target, text });
  tag = (target: EntryRef, tag: string): Promise<Entry> => this.publish({ type: 'tag', target, tag });
  deleteEntries = (hashes: readonly Hash[]): Promise<Entry[]> => this.#publisher.rewrite(hashes);

  async follow(identity: Identity): Promise<Entry> {
    await this.replica.watch(identity, 'follow');
    await this.replica.setBlocked(identity, false);
    // Already held (looked up before following): widen to its devices now, not at its next head.
    const head = await this.replica.head(identity);
    if (head) await watchAlong(this.replica, this.identity, head);
    const entry = await this.publish({ type: 'follow', identity });
    await this.consent.settle();
    return entry;
  }

  async block(identity: Identity, reason?: string): Promise<Entry> {
    await this.#stopSharing(identity);
    return this.publish({ type: 'block', identity, ...(reason !== undefined && { reason }) });
  }

  /** A block nobody else can read. */
  async mute(identity: Identity): Promise<Entry> {
    await this.#stopSharing(identity);
    return this.#notes.mute(identity);
  }

  // --- private notes (private-notes.ts) -------------------------------------

  sendPrivate = (text: string, to: readonly Identity[]): Promise<Entry> => this.#notes.send(text, to);
  readPrivate = (entry: Entry): string | null => this.#notes.read(entry);

  // --- conversations (conversations.ts) -------------------------------------

  /** Private notes and drops as messages, newest first. */
  messages = (): Promise<ChatMessage[]> => this.#conversations.messages();
  sendMessage = (to: readonly Identity[], text: string, options?: SendOptions): Promise<SendResult> =>
    this.#conversations.send(to, text, options);
  followsMe = (identity: Identity): Promise<boolean> => this.#conversations.followsMe(identity);
  personOf = (identity: Identity): Promise<Identity> => this.#conversations.personOf(identity);

  /** Fetch someone's account feed (profile, devices) without following them: for an invite or a conversation. */
  lookUp = (identity: Identity): Promise<void> => this.replica.watch(identity, 'contact');

  /** The highest comparable of this device's feed a room has taken; later entries are still to be published. */
  publishedUpTo = (identity: Identity = this.identity): number => this.#publisher.publishedUpTo(identity);

  // --- reading and blobs (blobs.ts) ----------------------------------------

  /** An identity's feed along its head chain, newest first. */
  feed = (identity: Identity, limit = 50): Promise<Entry[]> => this.replica.feed(identity, limit);

  /** Newest first across everyone watched (one read of the store, whatever the number of feeds). */
  timeline = (limit = 50): Promise<Entry[]> => this.replica.timeline(limit);

  /** Identities replicated, and why (self, synod, device, follow, lease). */
  watching(): { identity: Identity; reasons: string[] }[] {
    return this.replica.watched().map((identity) => ({ identity, reasons: this.replica.reasons(identity) }));
  }

  /** The profile to show: a synod's own, or for a device the profile of the synod it is a member of. */
  async profileOf(identity: Identity): Promise<{ synod: Identity | null; name?: string; about?: string; avatar?: BlobRef }> {
    const own = this.replica.synod(identity);
    if (own) return { synod: identity, ...own.profile };
    const member = await this.replica.synodOfDevice(identity);
    return member ? { synod: member.identity, ...member.state.profile } : { synod: null };
  }

  addBlob = (bytes: Uint8Array): Promise<BlobRef> => addBlob(this.replica.store, bytes);
  /** A collection (album): a directory blob over the given files. */
  addCollection = (items: readonly DirectoryItem[]): Promise<BlobRef> => addCollection(this.replica.store, items);
  getBlob = (ref: BlobRef): Promise<Uint8Array> => getBlob(this.replica.store, this.mesh, ref);

  // --- dropbox (dropbox.ts) and leases (lease.ts) ---------------------------

  sendDrop = (target: Identity, text: string, via?: string, timeoutMs?: number): Promise<Entry> =>
    this.#dropbox.send(target, text, via, timeoutMs);
  inbox = (): Promise<InboxMessage[]> => this.#dropbox.inbox();
  acknowledgeDrop = (hash: Hash): Promise<void> => this.#dropbox.acknowledge(hash);
  /** Delete unread everything waiting at a dropbox room for `target` (this device, or its synod: the default). */
  clearDropbox = (url: string, target: Identity = this.#keys.synodIdentity ?? this.identity, through?: number): Promise<void> =>
    this.#dropbox.clear(url, target, through);
  /** Leases are asked for now and then: their module loads when first needed. */
  requestLease = async (roomUrl: string, seconds = 30 * 24 * 3600): Promise<LeaseGrant[]> =>
    (await import('./lease.ts')).requestLease(this.#keys, this.replica, this.mesh, roomUrl, seconds);

  // --- network --------------------------------------------------------------

  connect = (url: string): RoomClient => this.mesh.join(url);
  disconnect = (url: string): void => this.mesh.leave(url);
  links = (): PeerLinkInfo[] => this.mesh.links();
  close = (): void => {
    this.mesh.close();
    this.consent.close();
  };

  // --- privacy and pubs (privacy.ts, consent.ts) ------------------------------

  privacy = (): Privacy => this.consent.privacy;
  setPrivacy = (change: Partial<Privacy>): Promise<Privacy> => this.consent.setPrivacy(change);
  /** Pubs this device knows: it dials a few of them when they are present. */
  pubs = (): Identity[] => this.consent.pubs();
  addPub = (identity: Identity): Promise<void> => this.consent.addPub(identity);
  removePub = (identity: Identity): Promise<void> => this.consent.removePub(identity);

  #pairingOptions() {
    return {
      replica: this.replica,
      synod: this.#synod,
      ...(this.#WebSocket !== undefined && { WebSocket: this.#WebSocket }),
      log: (line: string) => this.events.emit('log', line),
    };
  }

  async #stopSharing(identity: Identity): Promise<void> {
    await this.replica.setBlocked(identity, true);
    await this.replica.unwatch(identity, 'follow');
    this.mesh.linkTo(identity)?.close('blocked');
    await this.consent.settle();
  }

  #wire(): void {
    const { replica, mesh } = this;
    replica.events.on('entry', (e) => this.events.emit('entry', e));
    replica.events.on('rejected', (r) => this.events.emit('rejected', r));
    replica.events.on('head', (h) => void this.#headMoved(h));
    replica.events.on('watch', (identity) => {
      for (const link of mesh.allLinks()) void link.syncWatched([identity]).catch(() => undefined);
    });
    mesh.events.on('peer', (p) => this.events.emit('peer', p));
    mesh.events.on('room', (r) => this.events.emit('room', r));
    mesh.events.on('blob', (b) => this.events.emit('blob', b));
    mesh.events.on('sync', (p) => this.events.emit('sync', p));
    mesh.events.on('log', (l) => this.events.emit('log', l));
    this.recovery.events.on('log', (l) => this.events.emit('log', l));
    mesh.events.on('roomOther', ({ url, link, message }) => {
      if (message.type !== 'drops') return;
      void this.#dropbox.receive(url, link, message).then(
        (messages) =>
          messages.forEach((m) => {
            this.events.emit('drop', m);
            void this.recovery.received(m);
          }),
        (err: Error) => this.events.emit('log', `drops from ${url}: ${err.message}`),
      );
    });
    mesh.events.on('roomLink', ({ url, link }) => {
      if (mesh.presenceIn(url)) void this.#accountLease.renew(link, url);
      void this.#publisher.announceHeads();
      void link.syncWatched().catch((err: Error) => this.events.emit('log', `room sync: ${err.message}`));
    });
  }

  async #headMoved(head: StoredHead): Promise<void> {
    this.events.emit('head', head);
    if (head.identity === this.#keys.synodIdentity || head.identity === this.identity)
      for (const [url, room] of this.mesh.rooms) if (room.link && this.mesh.presenceIn(url)) void this.#accountLease.renew(room.link, url);
    await this.#publisher.headMoved(head);
    await watchAlong(this.replica, this.identity, head);
  }
}
