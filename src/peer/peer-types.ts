/** What the peer engine (peer.ts) takes and tells: its options and its events. */
import type { Entry, Identity, Service } from '../protocol/index.ts';
import type { InboxMessage } from './dropbox.ts';
import type { LinkLimits } from './link-rules.ts';
import type { BlobProgress, SyncProgress } from './link.ts';
import type { PeerLinkInfo } from './mesh-types.ts';
import type { ReplicaEvents } from './replica.ts';
import type { RoomStatus } from './room-client.ts';
import type { RtcOptions } from './rtc-channel.ts';
import type { StoredHead, Store } from './store.ts';
import type { Conditions } from './wants.ts';

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
  /** How often rooms are asked for the heads of follows we hold no link to (follow-poll.ts; FOLLOW_POLL_MS by default). */
  followPollMs?: number;
  /** The device's conditions for background blob fetching (wants.ts); the browser's by default. */
  conditions?: () => Promise<Conditions>;
  /** Blobs served at once; more wait, in order of reciprocity (reciprocity.ts). */
  serveSlots?: number;
}
