/**
 * The engine's public surface: what an app (web/src/engine.ts) or a headless
 * peer builds on. Everything else in src/peer is how it works inside.
 */
export { Peer, type PeerEvents, type PeerOptions } from './peer.ts';
export { PeerError } from './errors.ts';
export { loadKeys, type Keys } from './keys.ts';
export { dropboxRoom, type InboxMessage } from './dropbox.ts';
export { threadsOf, type ChatMessage, type SendOptions, type SendResult, type Thread } from './conversations.ts';
export { pairingRoomUrl, type PairingRun } from './pairing.ts';
export type { LeaseGrant } from './lease.ts';
export type { Calls, CallInfo, CallState, CallOptions } from './calls.ts';
/** Calls load when the app asks for them (after its first paint), not with the rest of the engine. */
export const loadCalls = () => import('./calls.ts');
export { IdbStore } from './idb-store.ts';
export { MemoryStore } from './memory-store.ts';
export type { Store, StoredHead, InboxItem, WatchReason } from './store.ts';
export type { BlobProgress, SyncProgress } from './link.ts';
export type { PeerLinkInfo } from './mesh.ts';
export { LINK_LIMITS, LINK_ORDER, type LinkReason } from './link-rules.ts';
export { PRIVACY_DEFAULTS, type Privacy } from './privacy.ts';
export type { RoomClient, RoomStatus } from './room-client.ts';
export type { TransportKind } from './channel.ts';
export type { RtcOptions } from './rtc-channel.ts';
export type { TurnCredentialSource, IceConfig } from './turn.ts';
/** TURN credentials are fetched once rooms connect: their module loads then. */
export const loadTurn = () => import('./turn.ts');
export type { ChooseResult, Held, PendingRecovery, PendingRequest, RecoveryProgress, Released, RecoverySet } from './recovery.ts';
export { membershipEntry, pushConfig, PushRefused, registerPush, unregisterPush, type PushConfig, type SubscriptionJson } from './push.ts';
