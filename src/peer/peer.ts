/**
 * The peer engine: one object an app holds. It owns the replica (storage
 * and validation), the mesh (rooms and links), and the person's keys, and
 * offers what people do: make or restore an account, pair devices, post,
 * follow, block, mute, write privately, read the timeline, share blobs.
 * Each of those lives in its own module; this facade builds them, and
 * peer-wiring.ts connects their events.
 */
import {
  type BlobRef,
  type DirectoryItem,
  type Entry,
  type EntryRef,
  type Hash,
  type Identity,
  type Payload,
  type SynodState,
} from '../protocol/index.ts';
import { FollowAdoption } from './adopt-follows.ts';
import { addBlob, addCollection } from './blobs.ts';
import { FeedLease } from './feed-lease.ts';
import { startFollowing, stopSharing } from './follow-block.ts';
import { FOLLOW_POLL_MS, FollowPoll } from './follow-poll.ts';
import { Consent } from './consent.ts';
import { Conversations, type ChatMessage, type SendOptions, type SendResult } from './conversations.ts';
import { Dropbox, type InboxMessage } from './dropbox.ts';
import { PeerError } from './errors.ts';
import { Emitter } from './events.ts';
import { Keeping } from './keeping.ts';
import { loadKeys, type Keys } from './keys.ts';
import { requestLease, type LeaseGrant } from './lease.ts';
import { Mesh, type PeerLinkInfo } from './mesh.ts';
import { holdPairing, joinPairing, type PairingRun } from './pairing.ts';
import { History } from './history.ts';
import { PrivateFeed, type ReadableEntry } from './private-feed.ts';
import type { Privacy } from './privacy.ts';
import { PrivateNotes } from './private-notes.ts';
import { Publisher } from './publisher.ts';
import { AccountReadKeys } from './read-keys.ts';
import { Reciprocity } from './reciprocity.ts';
import { Recovery } from './recovery.ts';
import { Replica } from './replica.ts';
import type { RoomClient } from './room-client.ts';
import { SynodAccount, type SynodProfile, type SynodServers } from './synod.ts';
import { Wants } from './wants.ts';
import type { PeerEvents, PeerOptions } from './peer-types.ts';
import { leaseRooms, wirePeer } from './peer-wiring.ts';

export { dropboxRoom, type InboxMessage } from './dropbox.ts';
export { PeerError } from './errors.ts';

export type { PeerEvents, PeerOptions };

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
  readonly #feedLease: FeedLease;
  readonly #followPoll: FollowPoll;
  readonly #conversations: Conversations;
  /** A private feed: sealing, approved followers, keys (private-feed.ts). */
  readonly privateFeed: PrivateFeed;
  /** Rewrites and the evidence of superseded heads (history.ts). */
  readonly history: History;
  /** Account-wide state (docs/protocol.md §9.8): keys for earlier envelopes, follows merged across the account's feeds. */
  readonly readKeys: AccountReadKeys;
  readonly relations: FollowAdoption;
  /** Blob bytes served and received per identity; serving order when busy (docs/protocol.md §13.10). */
  readonly reciprocity: Reciprocity;
  /** The iwant list, and blob fetches that ask before they get (§13.10). */
  readonly wants: Wants;
  /** Leases between peers: feeds kept for the account's devices and chosen friends, and who keeps ours (§13.11). */
  readonly keeping: Keeping;
  readonly #WebSocket: unknown;

  private constructor(
    readonly replica: Replica,
    keys: Keys,
    options: PeerOptions,
  ) {
    this.#keys = keys;
    this.consent = new Consent(replica, () => ({ device: keys.device.identity, synod: keys.synodIdentity }));
    this.reciprocity = new Reciprocity(replica.store, {
      ...(options.serveSlots !== undefined && { slots: options.serveSlots }),
      favoured: (identity) => !!keys.synodIdentity && replica.synod(keys.synodIdentity)?.devices.get(identity)?.cut === null,
    });
    this.mesh = new Mesh({
      blobs: this.reciprocity,
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
    this.readKeys = new AccountReadKeys(keys, replica, this.#publisher);
    this.#notes.given = this.readKeys;
    this.relations = new FollowAdoption({
      keys,
      replica,
      notes: this.#notes,
      readKeys: this.readKeys,
      blocked: (identity) => {
        this.mesh.linkTo(identity)?.close('blocked');
        // A block adopted from another of our feeds: consent hears of it now (a block alone moves no watch reason).
        this.consent.refresh();
      },
    });
    this.#dropbox = new Dropbox(keys, replica, this.mesh, this.#notes);
    const log = (line: string) => this.events.emit('log', line);
    this.#feedLease = new FeedLease(keys, replica, () => leaseRooms(this.mesh), log);
    this.#followPoll = new FollowPoll(
      replica,
      this.mesh,
      () => [keys.device.identity, keys.synodIdentity],
      options.followPollMs ?? FOLLOW_POLL_MS,
      log,
    );
    this.#conversations = new Conversations(keys, replica, this.#notes, this.#dropbox);
    this.privateFeed = new PrivateFeed(keys, replica, this.#publisher, this.#notes);
    this.history = new History(replica);
    this.recovery = new Recovery({
      keys,
      replica,
      mesh: this.mesh,
      notes: this.#notes,
      publisher: this.#publisher,
      synod: this.#synod,
      relations: this.relations,
    });
    this.wants = new Wants({
      store: replica.store,
      links: () => this.mesh.allLinks(),
      ...(options.conditions && { conditions: options.conditions }),
      log: (line) => this.events.emit('log', line),
    });
    this.keeping = new Keeping(keys, replica, this.mesh);
    this.#WebSocket = options.WebSocket;
    wirePeer(this, { keys, dropbox: this.#dropbox, feedLease: this.#feedLease, publisher: this.#publisher });
  }

  static async open(options: PeerOptions): Promise<Peer> {
    const replica = await Replica.open(options.store);
    const keys = await loadKeys(options.store);
    const peer = new Peer(replica, keys, options);
    await peer.consent.open();
    await peer.#publisher.loadPublished();
    await peer.privateFeed.load();
    await peer.history.load(replica.watched());
    await replica.watch(keys.device.identity, 'self');
    if (keys.synodIdentity) await replica.watch(keys.synodIdentity, 'synod');
    peer.wants.start();
    void peer.recovery.start().catch((err: Error) => peer.events.emit('log', `recovery: ${err.message}`));
    void peer.readKeys.refresh().then(
      () => peer.relations.merge(),
      (err: Error) => peer.events.emit('log', `account keys: ${err.message}`),
    );
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

  /** Every post takes this path: sealed first when the feed is private (private-feed.ts). */
  publish = async (payload: Payload): Promise<Entry> => this.#publisher.publish(await this.privateFeed.wrap(payload));
  postNote = (text: string): Promise<Entry> => this.publish({ type: 'public_note', text });
  comment = (target: EntryRef, text: string): Promise<Entry> => this.publish({ type: 'comment', target, text });
  tag = (target: EntryRef, tag: string): Promise<Entry> => this.publish({ type: 'tag', target, tag });
  deleteEntries = (hashes: readonly Hash[]): Promise<Entry[]> => this.#publisher.rewrite(hashes);

  follow(identity: Identity): Promise<Entry> {
    return startFollowing(this, identity);
  }

  async block(identity: Identity, reason?: string): Promise<Entry> {
    await stopSharing(this, identity);
    return this.publish({ type: 'block', identity, ...(reason !== undefined && { reason }) });
  }

  /** A block nobody else can read. */
  async mute(identity: Identity): Promise<Entry> {
    await stopSharing(this, identity);
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

  /** An identity's feed along its head chain, newest first; sealed posts opened where we hold the key. */
  feed = async (identity: Identity, limit = 50): Promise<ReadableEntry[]> =>
    (await this.replica.feed(identity, limit)).map((e) => this.privateFeed.view(e));

  /** Newest first across everyone watched (one read of the store, whatever the number of feeds); sealed posts opened as in feed(). */
  timeline = async (limit = 50): Promise<ReadableEntry[]> => (await this.replica.timeline(limit)).map((e) => this.privateFeed.view(e));

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
  getBlob = (ref: BlobRef): Promise<Uint8Array> => this.wants.get(ref);

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
  /** Ask the rooms now for what is new from follows we hold no link to (a screen opened, "refresh"); at most every 10 s. */
  refreshFollows = (): Promise<void> => this.#followPoll.now();

  // --- network --------------------------------------------------------------

  connect = (url: string): RoomClient => this.mesh.join(url);
  disconnect = (url: string): void => this.mesh.leave(url);
  links = (): PeerLinkInfo[] => this.mesh.links();
  close = (): void => {
    this.wants.stop();
    this.#feedLease.close();
    this.#followPoll.close();
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
}
