/** What the mesh (mesh.ts) takes and tells: its options, its events, and what the app sees of a link. */
import type { Hash, Identity, KeyPair, Service, WireMessage } from '../protocol/index.ts';
import type { TransportKind } from './channel.ts';
import type { Consent } from './consent.ts';
import type { BlobProgress, Link, SyncProgress } from './link.ts';
import type { LinkLimits, LinkReason } from './link-rules.ts';
import type { Replica } from './replica.ts';
import type { RoomStatus } from './room-client.ts';
import type { RtcOptions } from './rtc-channel.ts';

export interface PeerLinkInfo {
  readonly identity: Identity;
  readonly transport: TransportKind;
  readonly room: string;
  /** Why the link exists; null for a channel handed to `adopt` directly (not through a room). */
  readonly reason: LinkReason | null;
}

export interface MeshEvents {
  peer: PeerLinkInfo & { connected: boolean };
  room: { url: string; status: RoomStatus };
  roomLink: { url: string; link: Link };
  /** Room messages the mesh does not handle (dropbox notices, lease answers, ...). */
  roomOther: { url: string; link: Link; message: WireMessage };
  blob: BlobProgress;
  sync: SyncProgress;
  log: string;
}

export interface MeshOptions {
  keys: KeyPair;
  replica: Replica;
  consent: Consent;
  provides: readonly Service[];
  head: () => Promise<Hash | null>;
  /** ICE servers (STUN/TURN) for WebRTC; WebRTC is off when null. */
  rtc: (() => Promise<RtcOptions>) | null;
  /** The caps on links (LINK_LIMITS unless a headless peer says otherwise). */
  limits?: LinkLimits;
  /** Per-peer notes with peer links (rooms never keep them). */
  notes?: boolean;
  WebSocket?: unknown;
}
