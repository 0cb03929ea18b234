/**
 * The peer engine: one object an app holds. It owns the replica (storage
 * and validation), the mesh (rooms and links), and the person's keys, and
 * offers what people do: make or restore an account, pair devices, post,
 * follow, block, mute, write privately, read the timeline, share blobs.
 */
import {
  buildDirectory,
  createEntry,
  fromUtf8,
  generateKeyPair,
  hashOf,
  mnemonicToSeed,
  nextComparable,
  open,
  rebase,
  seal,
  seedToMnemonic,
  signMembership,
  synodReaders,
  utf8,
  keyPairFromSeed,
  verifyMembership,
  type BlobRef,
  type DirectoryItem,
  type Entry,
  type EntryRef,
  type EnvelopeKind,
  type Hash,
  type Identity,
  type KeyPair,
  type Payload,
  type Service,
  type SignatureText,
  type SynodState,
} from '../protocol/index.ts';
import { loadKeys, SYNOD_SECRET, SYNOD_SETTING } from './account.ts';
import { Emitter } from './events.ts';
import type { BlobProgress, SyncProgress } from './link.ts';
import { Mesh, type PeerLinkInfo } from './mesh.ts';
import { Replica, type ReplicaEvents } from './replica.ts';
import type { RoomClient, RoomStatus } from './room-client.ts';
import type { RtcOptions } from './rtc-channel.ts';
import type { InboxItem, StoredHead, Store } from './store.ts';
import { makeDrop, readDrop, receiveDrops, sendDrop } from './dropbox.ts';
import { blobRefsOf, callLease, httpOrigin, uploadBlob, type LeaseGrant } from './lease.ts';
import { trustedEntry } from './store.ts';

/** A dropbox message as the app shows it. */
export interface InboxMessage extends InboxItem {
  /** The plaintext, when one of our keys reads it. */
  readonly text: string | null;
}

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
}

export class PeerError extends Error {
  constructor(
    readonly code: 'no_synod' | 'not_synod_holder' | 'bad_mnemonic' | 'bad_pairing' | 'synod_not_found' | 'not_found' | 'bad_input',
    message: string,
  ) {
    super(message);
  }
}

const PAIRING_PREFIX = 'effigy-pair:';

/** A dropbox endpoint is an origin; its drops go through the room named "dropbox" there. */
export function dropboxRoom(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.pathname.startsWith('/room/')) return u.toString().replace(/^http/, 'ws');
  return `${u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss' : 'ws'}://${u.host}/room/dropbox`;
}

export class Peer {
  readonly events = new Emitter<PeerEvents>();
  readonly mesh: Mesh;
  #device: KeyPair;
  #synod: KeyPair | null;
  #synodIdentity: Identity | null;

  private constructor(
    readonly replica: Replica,
    keys: Awaited<ReturnType<typeof loadKeys>>,
    options: PeerOptions,
  ) {
    this.#device = keys.device;
    this.#synod = keys.synod;
    this.#synodIdentity = keys.synodIdentity;
    this.mesh = new Mesh({
      keys: this.#device,
      replica,
      provides: options.provides ?? ['blobs', 'headtracking'],
      head: async () => (await replica.head(this.#device.identity))?.hash ?? null,
      rtc: options.rtc ?? null,
      ...(options.WebSocket !== undefined && { WebSocket: options.WebSocket }),
    });
    replica.events.on('entry', (e) => this.events.emit('entry', e));
    replica.events.on('rejected', (r) => this.events.emit('rejected', r));
    replica.events.on('head', (h) => void this.#headMoved(h));
    replica.events.on('watch', (identity) => {
      for (const link of this.mesh.allLinks()) void link.syncWatched([identity]).catch(() => undefined);
    });
    this.mesh.events.on('peer', (p) => this.events.emit('peer', p));
    this.mesh.events.on('room', (r) => this.events.emit('room', r));
    this.mesh.events.on('blob', (b) => this.events.emit('blob', b));
    this.mesh.events.on('sync', (p) => this.events.emit('sync', p));
    this.mesh.events.on('log', (l) => this.events.emit('log', l));
    this.mesh.events.on('roomOther', ({ url, link, message }) => {
      if (message.type !== 'drops') return;
      void receiveDrops(link, replica.store, url, message).then(
        (items) => items.forEach((i) => this.events.emit('drop', this.#inboxMessage(i))),
        (err: Error) => this.events.emit('log', `drops from ${url}: ${err.message}`),
      );
    });
    this.mesh.events.on('roomLink', ({ link }) => {
      void this.#announceOwnHeads();
      void link.syncWatched().catch((err: Error) => this.events.emit('log', `room sync: ${err.message}`));
    });
  }

  static async open(options: PeerOptions): Promise<Peer> {
    const replica = await Replica.open(options.store);
    const keys = await loadKeys(options.store);
    const peer = new Peer(replica, keys, options);
    await replica.watch(keys.device.identity, 'self');
    if (keys.synodIdentity) await replica.watch(keys.synodIdentity, 'synod');
    return peer;
  }

  get identity(): Identity {
    return this.#device.identity;
  }
  get synodIdentity(): Identity | null {
    return this.#synodIdentity;
  }
  get holdsSynodKey(): boolean {
    return this.#synod !== null;
  }
  synodState(identity: Identity | null = this.#synodIdentity): SynodState | undefined {
    return identity ? this.replica.synod(identity) : undefined;
  }

  /** The synod's 24 words, on a device that holds the synod key. */
  mnemonic(): string | null {
    return this.#synod ? seedToMnemonic(this.#synod.seed) : null;
  }

  // --- account ------------------------------------------------------------

  /** First visit: a new synod with this device as its first member. */
  async createSynod(
    profile: { name?: string; about?: string } = {},
    servers?: { signalling: string[]; dropboxes: string[] },
  ): Promise<{ mnemonic: string }> {
    const synod = await generateKeyPair();
    await this.#adoptSynodKey(synod);
    await this.#appendSynod({
      type: 'synod',
      op: 'add_device',
      device: this.identity,
      proof: await signMembership(this.#device, synod.identity),
    });
    if (servers) await this.#appendSynod({ type: 'synod', op: 'servers', ...servers });
    if (profile.name !== undefined || profile.about !== undefined) await this.#appendSynod({ type: 'identification', ...profile });
    // The device's first entry claims the synod: rooms track a synod's head only for its members' sessions.
    if (!(await this.replica.head(this.identity)))
      await this.publish({ type: 'identification', ...(profile.name !== undefined && { name: profile.name }) });
    return { mnemonic: seedToMnemonic(synod.seed) };
  }

  /**
   * Restore from the 24 words: this device becomes a new member of the
   * synod. The synod's feed must first be found on a connected peer or lease
   * (appending to an empty copy would fork it), so this waits for it.
   */
  async restoreSynod(words: string, waitMs = 15_000): Promise<void> {
    const seed = mnemonicToSeed(words);
    if (!seed.ok) throw new PeerError('bad_mnemonic', seed.error.message);
    const synod = await keyPairFromSeed(seed.value);
    if (!(await this.replica.head(synod.identity))) {
      const arrived = this.replica.events.once('head', (h) => h.identity === synod.identity).then(() => true);
      await this.replica.watch(synod.identity, 'synod');
      const found = await Promise.race([arrived, new Promise<false>((r) => setTimeout(() => r(false), waitMs))]);
      if (!found) {
        // Keep nothing of a restore that found nothing: the words stay with the person.
        if (this.#synodIdentity !== synod.identity) await this.replica.unwatch(synod.identity, 'synod');
        throw new PeerError(
          'synod_not_found',
          'no connected peer or lease holds this synod yet: connect to a room where another of your devices or a lease is, then try again',
        );
      }
    }
    await this.#adoptSynodKey(synod);
    if (!this.replica.synod(synod.identity)?.devices.has(this.identity)) {
      await this.#appendSynod({
        type: 'synod',
        op: 'add_device',
        device: this.identity,
        proof: await signMembership(this.#device, synod.identity),
      });
    }
  }

  async #adoptSynodKey(synod: KeyPair): Promise<void> {
    this.#synod = synod;
    this.#synodIdentity = synod.identity;
    await this.replica.store.putSecret(SYNOD_SECRET, synod.seed);
    await this.replica.store.putSetting(SYNOD_SETTING, synod.identity);
    await this.replica.watch(synod.identity, 'synod');
  }

  /** On a new device: the code to show the device that holds the synod key (QR or paste). */
  async pairingCode(synod: Identity): Promise<string> {
    const proof = await signMembership(this.#device, synod);
    this.#synodIdentity = synod;
    await this.replica.store.putSetting(SYNOD_SETTING, synod);
    await this.replica.watch(synod, 'synod');
    return `${PAIRING_PREFIX}${synod}.${this.identity}.${proof}`;
  }

  /** On the device holding the synod key: admit the device that showed `code`. */
  async acceptPairing(code: string, name?: string): Promise<Entry> {
    if (!this.#synod)
      throw new PeerError(
        'not_synod_holder',
        'only a device holding the synod key (created it, or restored from its words) can add devices',
      );
    const parts = code.trim().startsWith(PAIRING_PREFIX) ? code.trim().slice(PAIRING_PREFIX.length).split('.') : [];
    const [synod, device, proof] = parts as [Identity, Identity, SignatureText];
    if (parts.length !== 3 || synod !== this.#synod.identity) throw new PeerError('bad_pairing', 'this pairing code is not for this synod');
    if (!(await verifyMembership(synod, device, proof)))
      throw new PeerError('bad_pairing', 'the pairing code does not verify: copy it again');
    return this.#appendSynod({ type: 'synod', op: 'add_device', device, proof, ...(name !== undefined && { name }) });
  }

  async revokeDevice(device: Identity, cut?: number): Promise<Entry> {
    const head = await this.replica.head(device);
    return this.#appendSynod({ type: 'synod', op: 'revoke_device', device, cut: cut ?? head?.comparable ?? 0 });
  }

  async setServers(signalling: string[], dropboxes: string[]): Promise<Entry> {
    return this.#appendSynod({ type: 'synod', op: 'servers', signalling, dropboxes });
  }

  async setProfile(profile: { name?: string; about?: string; avatar?: BlobRef }): Promise<Entry> {
    return this.#appendSynod({ type: 'identification', ...profile });
  }

  async #appendSynod(payload: Payload): Promise<Entry> {
    const synod = this.#synod;
    if (!synod) throw new PeerError('not_synod_holder', 'this device does not hold the synod key');
    return this.#append(synod, payload, null);
  }

  // --- publishing ---------------------------------------------------------

  /** Append to this device's feed, claiming its synod at the synod's current head. */
  async publish(payload: Payload): Promise<Entry> {
    const synodHead = this.#synodIdentity ? await this.replica.head(this.#synodIdentity) : undefined;
    const claim =
      this.#synodIdentity && synodHead && this.replica.synod(this.#synodIdentity)?.devices.has(this.identity)
        ? ([this.#synodIdentity, synodHead.hash] as const)
        : null;
    return this.#append(this.#device, payload, claim);
  }

  async #append(keys: KeyPair, payload: Payload, synod: readonly [Identity, Hash] | null): Promise<Entry> {
    const head = await this.replica.head(keys.identity);
    const parent = head ? await this.replica.store.getEntry(head.hash) : undefined;
    const entry = await createEntry(keys, { parent: parent?.hash ?? null, comparable: nextComparable(parent ?? null), synod, payload });
    await this.replica.appendOwn(entry);
    return entry;
  }

  postNote(text: string): Promise<Entry> {
    return this.publish({ type: 'public_note', text });
  }

  comment(target: EntryRef, text: string): Promise<Entry> {
    return this.publish({ type: 'comment', target, text });
  }

  tag(target: EntryRef, tag: string): Promise<Entry> {
    return this.publish({ type: 'tag', target, tag });
  }

  async follow(identity: Identity): Promise<Entry> {
    await this.replica.watch(identity, 'follow');
    await this.replica.setBlocked(identity, false);
    return this.publish({ type: 'follow', identity });
  }

  async block(identity: Identity, reason?: string): Promise<Entry> {
    await this.#stopSharing(identity);
    return this.publish({ type: 'block', identity, ...(reason !== undefined && { reason }) });
  }

  /** A block nobody else can read: sealed to this person's own readers. */
  async mute(identity: Identity): Promise<Entry> {
    await this.#stopSharing(identity);
    const envelope = this.#seal(JSON.stringify({ type: 'block', identity }), 'mute', await this.#ownReaders());
    return this.publish({ type: 'mute', envelope });
  }

  async #stopSharing(identity: Identity): Promise<void> {
    await this.replica.setBlocked(identity, true);
    await this.replica.unwatch(identity, 'follow');
    this.mesh.linkTo(identity)?.close('blocked');
  }

  /** Delete entries of this device's feed by rebasing; later entries are re-signed (new hashes). */
  async deleteEntries(hashes: readonly Hash[]): Promise<Entry[]> {
    const chain = await this.replica.chain(this.identity);
    const rewritten = await rebase(this.#device, chain, new Set(hashes));
    for (const e of rewritten) await this.replica.appendOwn(e);
    return rewritten;
  }

  // --- private notes ------------------------------------------------------

  async #readersFor(identity: Identity): Promise<Identity[]> {
    // A synod's readers are its key and its live devices; a device alone reads for itself.
    const state = this.replica.synod(identity);
    if (state) return synodReaders(state);
    const head = await this.replica.head(identity);
    const entry = head ? await this.replica.store.getEntry(head.hash) : undefined;
    const claimed = entry?.body.synod?.[0];
    const claimedState = claimed ? this.replica.synod(claimed) : undefined;
    return claimedState?.devices.has(identity) ? synodReaders(claimedState) : [identity];
  }

  async #ownReaders(): Promise<Identity[]> {
    return this.#synodIdentity ? [...new Set([this.identity, ...(await this.#readersFor(this.#synodIdentity))])] : [this.identity];
  }

  #seal(text: string, kind: EnvelopeKind, readers: Identity[]): string {
    return seal(utf8(text), { author: this.identity, kind, readers }).envelope;
  }

  /** A note only the given identities (and their synods' devices) and this person can read. */
  async sendPrivate(text: string, to: readonly Identity[]): Promise<Entry> {
    const readers = new Set(await this.#ownReaders());
    for (const identity of to) for (const r of await this.#readersFor(identity)) readers.add(r);
    return this.publish({ type: 'private_note', envelope: this.#seal(text, 'private_note', [...readers]) });
  }

  /** The plaintext of a private note or mute, if one of our keys reads it. */
  readPrivate(entry: Entry): string | null {
    const p = entry.body.payload;
    if (p.type !== 'private_note' && p.type !== 'mute') return null;
    for (const keys of [this.#device, this.#synod]) {
      if (!keys) continue;
      const opened = open(p.envelope, keys.seed, entry.body.identity, p.type);
      if (opened.ok) return fromUtf8(opened.value.plaintext);
    }
    return null;
  }

  // --- reading ------------------------------------------------------------

  /** An identity's feed along its head chain, newest first. */
  async feed(identity: Identity, limit = 50): Promise<Entry[]> {
    const out: Entry[] = [];
    const head = await this.replica.head(identity);
    let at = head ? await this.replica.store.getEntry(head.hash) : undefined;
    while (at && out.length < limit) {
      out.push(at);
      at = at.body.parent ? await this.replica.store.getEntry(at.body.parent) : undefined;
    }
    return out;
  }

  /** Identities replicated, and why (self, synod, device, follow, lease). */
  watching(): { identity: Identity; reasons: string[] }[] {
    return this.replica.watched().map((identity) => ({ identity, reasons: this.replica.reasons(identity) }));
  }

  /**
   * The profile to show for an identity: a synod's own, or for a device the
   * profile of the synod it is a member of.
   */
  async profileOf(identity: Identity): Promise<{ synod: Identity | null; name?: string; about?: string; avatar?: BlobRef }> {
    const own = this.replica.synod(identity);
    if (own) return { synod: identity, ...own.profile };
    const head = await this.replica.head(identity);
    const entry = head ? await this.replica.store.getEntry(head.hash) : undefined;
    const claimed = entry?.body.synod?.[0] ?? null;
    const state = claimed ? this.replica.synod(claimed) : undefined;
    return state?.devices.has(identity) ? { synod: claimed, ...state.profile } : { synod: null };
  }

  /** Newest first across everyone watched. */
  async timeline(limit = 50): Promise<Entry[]> {
    const all = (await Promise.all(this.replica.watched().map((i) => this.feed(i, limit)))).flat();
    return all.sort((a, b) => b.body.comparable - a.body.comparable).slice(0, limit);
  }

  // --- blobs --------------------------------------------------------------

  async addBlob(bytes: Uint8Array): Promise<BlobRef> {
    const hash = hashOf(bytes);
    await this.replica.store.putBlob(hash, bytes);
    return { hash, size: bytes.length };
  }

  /** A collection (album): a directory blob over the given files. */
  async addCollection(items: readonly DirectoryItem[]): Promise<BlobRef> {
    const dir = buildDirectory(items);
    await this.replica.store.putBlob(dir.ref.hash, dir.bytes);
    return dir.ref;
  }

  /** A blob from the store or, failing that, from any link that has it. */
  async getBlob(ref: BlobRef): Promise<Uint8Array> {
    const local = await this.replica.store.getBlob(ref.hash);
    if (local) return local;
    let lastError: Error | null = null;
    for (const link of this.mesh.allLinks()) {
      try {
        return await link.fetchBlob(ref.hash, ref.size);
      } catch (err) {
        lastError = err as Error;
      }
    }
    throw new PeerError('not_found', `no connected peer has blob ${ref.hash}${lastError ? ` (${lastError.message})` : ''}`);
  }

  // --- dropbox ------------------------------------------------------------

  /**
   * Reach someone who may not follow us: seal `text` to their readers (their
   * synod's, when we know it) and leave it at a dropbox room. `via` is a room
   * URL; by default the first dropbox their synod publishes.
   */
  async sendDrop(target: Identity, text: string, via?: string, timeoutMs = 15_000): Promise<Entry> {
    const state = this.replica.synod(target);
    const url = via ?? (state?.dropboxes[0] ? dropboxRoom(state.dropboxes[0]) : undefined);
    if (!url) throw new PeerError('bad_input', 'no dropbox known for this identity: give a server');
    const joinedHere = !this.mesh.rooms.has(url);
    const room = this.mesh.join(url);
    try {
      if (!room.link) {
        const linked = await Promise.race([
          room.events.once('link').then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), timeoutMs)),
        ]);
        if (!linked || !room.link) throw new PeerError('not_found', `the dropbox at ${url} did not answer within ${timeoutMs / 1000} s`);
      }
      const drop = await makeDrop(this.#device, await this.#readersFor(target), text);
      await sendDrop(room.link, target, drop);
      return drop;
    } finally {
      if (joinedHere) this.mesh.leave(url);
    }
  }

  /** Dropbox messages received, newest first, with their text where we can read it. */
  async inbox(): Promise<InboxMessage[]> {
    const items = await this.replica.store.inbox();
    return items.sort((a, b) => b.receivedAt - a.receivedAt).map((i) => this.#inboxMessage(i));
  }

  async acknowledgeDrop(hash: Hash): Promise<void> {
    const item = (await this.replica.store.inbox()).find((i) => i.hash === hash);
    if (item) await this.replica.store.putInbox({ ...item, acknowledged: true });
  }

  #inboxMessage(item: InboxItem): InboxMessage {
    const seeds = [this.#device.seed, ...(this.#synod ? [this.#synod.seed] : [])];
    return { ...item, text: readDrop(trustedEntry(item.hash, item.entry), seeds) };
  }

  // --- leases -------------------------------------------------------------

  /**
   * Ask the server behind a room to lease our feeds (this device's, and the
   * synod's when we hold its key), blobs included, so others can fetch them
   * while we are offline. Renewing is asking again.
   */
  async requestLease(roomUrl: string, seconds = 30 * 24 * 3600): Promise<LeaseGrant[]> {
    const room = this.mesh.join(roomUrl);
    if (!room.link) await room.events.once('link');
    const grants: LeaseGrant[] = [];
    for (const keys of [this.#device, this.#synod]) {
      if (!keys) continue;
      const head = await this.replica.head(keys.identity);
      if (!head) continue;
      for (const entry of await this.replica.chain(keys.identity)) {
        for (const ref of await blobRefsOf(entry, this.replica.store)) {
          const bytes = await this.replica.store.getBlob(ref.hash);
          if (bytes) await uploadBlob(httpOrigin(roomUrl), keys, ref.hash, bytes);
        }
      }
      grants.push(await callLease(room.link!, keys.identity, head.hash, seconds));
    }
    return grants;
  }

  // --- network ------------------------------------------------------------

  connect(url: string): RoomClient {
    return this.mesh.join(url);
  }

  disconnect(url: string): void {
    this.mesh.leave(url);
  }

  links(): PeerLinkInfo[] {
    return this.mesh.links();
  }

  close(): void {
    this.mesh.close();
  }

  async #headMoved(head: StoredHead): Promise<void> {
    this.events.emit('head', head);
    const own = head.identity === this.identity || head.identity === this.#synod?.identity;
    if (own) await this.#announceOwnHeads();
    const reasons = this.replica.reasons(head.identity);
    const state = this.replica.synod(head.identity);
    if (state) {
      // Members of our synod replicate each other; following a person follows all their devices.
      const reason = reasons.includes('synod') ? 'device' : reasons.includes('follow') ? 'follow' : null;
      if (reason)
        for (const d of state.devices.values())
          if (d.cut === null && d.device !== this.identity) await this.replica.watch(d.device, reason);
    } else if (reasons.includes('follow')) {
      // Following a device brings its synod along, for the profile and the other devices.
      const entry = await this.replica.store.getEntry(head.hash);
      const claimed = entry?.body.synod?.[0];
      if (claimed && !this.replica.isBlocked(claimed)) await this.replica.watch(claimed, 'follow');
    }
  }

  async #announce(hash: Hash): Promise<void> {
    const entry = await this.replica.store.getEntry(hash);
    if (!entry) return;
    for (const room of this.mesh.rooms.values()) void room.announce(entry);
  }

  async #announceOwnHeads(): Promise<void> {
    for (const identity of [this.identity, this.#synod?.identity]) {
      if (!identity) continue;
      const head = await this.replica.head(identity);
      if (head) await this.#announce(head.hash);
    }
  }
}
