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
import { Dropbox, type InboxMessage } from './dropbox.ts';
import { Emitter } from './events.ts';
import { loadKeys, type Keys } from './keys.ts';
import type { LinkLimits } from './link-rules.ts';
import { requestLease, type LeaseGrant } from './lease.ts';
import type { BlobProgress, SyncProgress } from './link.ts';
import { Mesh, type PeerLinkInfo } from './mesh.ts';
import type { Privacy } from './privacy.ts';
import { PrivateNotes } from './private-notes.ts';
import { Publisher } from './publisher.ts';
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
}

export class Peer {
  readonly events = new Emitter<PeerEvents>();
  readonly mesh: Mesh;
  /** Relations and privacy choices: whom we link with, watch and allow (consent.ts). */
  readonly consent: Consent;
  readonly #keys: Keys;
  readonly #publisher: Publisher;
  readonly #synod: SynodAccount;
  readonly #notes: PrivateNotes;
  readonly #dropbox: Dropbox;
  readonly #accountLease: AccountLease;

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
      ...(options.WebSocket !== undefined && { WebSocket: options.WebSocket }),
    });
    this.#publisher = new Publisher(keys, replica, this.mesh);
    this.#synod = new SynodAccount(keys, replica, this.#publisher);
    this.#notes = new PrivateNotes(keys, replica, this.#publisher);
    this.#dropbox = new Dropbox(keys, replica, this.mesh, this.#notes);
    this.#accountLease = new AccountLease(keys, replica, (line) => this.events.emit('log', line));
    this.#wire();
  }

  static async open(options: PeerOptions): Promise<Peer> {
    const replica = await Replica.open(options.store);
    const keys = await loadKeys(options.store);
    const peer = new Peer(replica, keys, options);
    await peer.consent.open();
    await replica.watch(keys.device.identity, 'self');
    if (keys.synodIdentity) await replica.watch(keys.synodIdentity, 'synod');
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

  mnemonic = (): string | null => this.#synod.mnemonic();
  createSynod = (profile?: SynodProfile, servers?: SynodServers): Promise<{ mnemonic: string }> => this.#synod.create(profile, servers);
  restoreSynod = (words: string, waitMs = 15_000): Promise<void> => this.#synod.restore(words, waitMs);
  pairingCode = (synod: Identity): Promise<string> => this.#synod.pairingCode(synod);
  acceptPairing = (code: string, name?: string): Promise<Entry> => this.#synod.acceptPairing(code, name);
  revokeDevice = (device: Identity, cut?: number): Promise<Entry> => this.#synod.revokeDevice(device, cut);
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

  // --- reading and blobs (blobs.ts) ----------------------------------------

  /** An identity's feed along its head chain, newest first. */
  feed = (identity: Identity, limit = 50): Promise<Entry[]> => this.replica.feed(identity, limit);

  /** Newest first across everyone watched. */
  async timeline(limit = 50): Promise<Entry[]> {
    const all = (await Promise.all(this.replica.watched().map((i) => this.feed(i, limit)))).flat();
    return all.sort((a, b) => b.body.comparable - a.body.comparable).slice(0, limit);
  }

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
  requestLease = (roomUrl: string, seconds = 30 * 24 * 3600): Promise<LeaseGrant[]> =>
    requestLease(this.#keys, this.replica, this.mesh, roomUrl, seconds);

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
    mesh.events.on('roomOther', ({ url, link, message }) => {
      if (message.type !== 'drops') return;
      void this.#dropbox.receive(url, link, message).then(
        (messages) => messages.forEach((m) => this.events.emit('drop', m)),
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
