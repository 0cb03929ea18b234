/**
 * The app's one connection to the peer engine (src/peer). It opens the
 * engine on IndexedDB, keeps the rooms joined that the synod lists, and
 * turns engine events into signals the screens read. Screens call the
 * engine (`peer()`) directly for actions.
 */
import { batch, computed, signal } from '@preact/signals';
import {
  dropboxRoom,
  IdbStore,
  loadCalls,
  loadTurn,
  loadKeys,
  Peer,
  PeerError,
  PRIVACY_DEFAULTS,
  type TurnCredentialSource,
  type BlobProgress,
  type CallInfo,
  type Calls,
  type IceConfig,
  type PeerLinkInfo,
  type Privacy,
  type RoomStatus,
} from '../../src/peer/index.ts';
import type { Identity, KeyPair } from '../../src/protocol/index.ts';

// Screens reach the engine only through this module.
export {
  dropboxRoom,
  LINK_LIMITS,
  threadsOf,
  type ChatMessage,
  type InboxMessage,
  type LinkReason,
  type PairingRun,
  type Privacy,
  type Thread,
} from '../../src/peer/index.ts';
export {
  membershipEntry,
  pushConfig,
  PushRefused,
  registerPush,
  unregisterPush,
  type Held,
  type PendingRecovery,
  type PendingRequest,
  type RecoveryProgress,
  type Released,
  type SubscriptionJson,
} from '../../src/peer/index.ts';

let instance: Peer | null = null;
let deviceKeyPair: KeyPair | null = null;

/** This device's key pair, for signed requests (push registration). */
export function deviceKeys(): KeyPair {
  if (!deviceKeyPair) throw new Error('the engine is not open yet');
  return deviceKeyPair;
}

/** The engine; only screens rendered after boot call this. */
export function peer(): Peer {
  if (!instance) throw new Error('the engine is not open yet');
  return instance;
}

/** Bumped (coalesced) whenever stored data changes: screens re-query on it. */
export const tick = signal(0);
export const rooms = signal<Record<string, RoomStatus>>({});
export const links = signal<PeerLinkInfo[]>([]);
export interface SyncRow {
  identity: Identity;
  peer: Identity;
  received: number;
  done: boolean;
  at: number;
}
export const syncs = signal<Record<string, SyncRow>>({});
export const blobs = signal<Record<string, BlobProgress & { at: number }>>({});
export const logs = signal<string[]>([]);
export const online = signal(typeof navigator === 'undefined' ? true : navigator.onLine);
export const persisted = signal<boolean | null>(null);
export const bootError = signal<string | null>(null);
export const updateReady = signal(false);
/** Whether WebRTC links can relay through TURN (null until the first answer from the server). */
export const turnStatus = signal<{ turn: boolean; note?: string } | null>(null);
/** This device's privacy choices (who sees it online, strangers, hiding its address, serving strangers). */
export const privacy = signal<Privacy>(PRIVACY_DEFAULTS);

export async function setPrivacy(change: Partial<Privacy>): Promise<void> {
  privacy.value = await peer().setPrivacy(change);
}

let turnSource: TurnCredentialSource | null = null;

let callsInstance: Calls | null = null;
/** Voice and video calls; only screens rendered after boot call this. */
export function calls(): Calls {
  if (!callsInstance) throw new Error('the engine is not open yet');
  return callsInstance;
}
/** The current call (a fresh object on every change, so screens re-render). */
export const currentCall = signal<CallInfo | null>(null);
/** Bumped when the list of who may call changes. */
export const permittedTick = signal(0);
/** Bumped when something about recovery changed (a share kept, a request, a release). */
export const recoveryTick = signal(0);
/** ICE settings for the next RTCPeerConnection: TURN credentials minted by the server that served the app, refreshed before they expire. */
async function iceConfig(): Promise<IceConfig> {
  if (!turnSource) return { iceServers: [], turn: false, note: 'not signed in yet' };
  const config = await turnSource.get();
  const prev = turnStatus.value;
  if (!prev || prev.turn !== config.turn || prev.note !== config.note)
    turnStatus.value = { turn: config.turn, ...(config.note !== undefined && { note: config.note }) };
  return config;
}

export interface Notice {
  id: number;
  kind: 'ok' | 'error' | 'info';
  text: string;
  /** The screen (location.hash) it was raised for: a change of screen drops it (clearNoticesOnLeave). */
  screen: string;
}
export const notices = signal<Notice[]>([]);
let noticeId = 0;
export function notify(text: string, kind: Notice['kind'] = 'ok', ms = kind === 'error' ? 9000 : 3500): void {
  const n = { id: ++noticeId, kind, text, screen: typeof location === 'undefined' ? '' : location.hash };
  notices.value = [...notices.value, n].slice(-4);
  setTimeout(() => (notices.value = notices.value.filter((x) => x.id !== n.id)), ms);
}

/**
 * Called on every change of screen. A notice about what was done on the screen
 * left ("Following.") would only cover the next one. One raised after the
 * screen changed ("Posted." as Compose opens Home: navigate first, then
 * notify) is about what the person is about to see. Errors stay until they expire.
 */
export function clearNoticesOnLeave(): void {
  const kept = notices.value.filter((n) => n.kind === 'error' || n.screen === location.hash);
  if (kept.length !== notices.value.length) notices.value = kept;
}

/** A message a person can act on, from whatever went wrong ("synod" is the engine's word; people have an account). */
export function explain(err: unknown): string {
  const text = (err instanceof PeerError || err instanceof Error ? err.message : String(err)).replace(/\bsynod(s?)\b/g, 'account$1');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

let pending: ReturnType<typeof setTimeout> | null = null;
function bump(): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    tick.value++;
    reconcileRooms();
  }, 30);
}

/** This device is a live member of a synod: the app proper, rather than the start screen. */
export const membership = computed<'member' | 'none' | 'revoked'>(() => {
  void tick.value;
  if (!instance) return 'none';
  const state = instance.synodState();
  const record = state?.devices.get(instance.identity);
  if (!record) return 'none';
  return record.cut === null ? 'member' : 'revoked';
});

// --- servers --------------------------------------------------------------

/** Where the app was served from: the default signalling room and dropbox. */
export function defaultServers(): { signalling: string[]; dropboxes: string[] } {
  const origin = location.origin;
  return { signalling: [`${origin.replace(/^http/, 'ws')}/room/main`], dropboxes: [origin] };
}

/** The rooms this device should be in: the synod's signalling servers and dropboxes. */
function desiredRooms(): string[] {
  const state = instance?.synodState();
  const signalling = state?.signalling.length ? [...state.signalling] : defaultServers().signalling;
  const out = new Set(signalling.map(toRoomUrl));
  if (membership.value === 'member') for (const d of state?.dropboxes ?? []) out.add(dropboxRoom(d));
  return [...out];
}

/** A signalling endpoint as a WebSocket room URL. */
export function toRoomUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (!u.pathname.startsWith('/room/')) u.pathname = '/room/main';
  return u.toString();
}

const joined = new Set<string>();
/** Rooms are joined once the network has started (after the first paint). */
let networkStarted = false;
function reconcileRooms(): void {
  const p = instance;
  if (!p || !networkStarted) return;
  const want = new Set(desiredRooms());
  for (const url of want) {
    if (joined.has(url)) continue;
    joined.add(url);
    const room = p.connect(url);
    rooms.value = { ...rooms.value, [url]: room.status };
  }
  for (const url of [...joined]) {
    if (want.has(url)) continue;
    joined.delete(url);
    p.disconnect(url);
    const next = { ...rooms.value };
    delete next[url];
    rooms.value = next;
  }
}

/** After the network comes back, rejoin rooms at once instead of waiting out the backoff. */
export function rejoinStalled(): void {
  const p = instance;
  if (!p) return;
  for (const url of joined) {
    if (p.mesh.rooms.get(url)?.status === 'online') continue;
    p.disconnect(url);
    const room = p.connect(url);
    rooms.value = { ...rooms.value, [url]: room.status };
  }
}

export const anyRoomOnline = computed(() => Object.values(rooms.value).some((s) => s === 'online'));

/** The moment the app started: "Connecting…" only means something for the first seconds. */
const bootedAt = Date.now();
export const startingUp = signal(true);
if (typeof window !== 'undefined') setTimeout(() => (startingUp.value = false), 6000);

/** What the header says: online, or offline (no network, or no server answering), or still connecting at start. */
export const netState = computed<'online' | 'offline' | 'connecting'>(() => {
  if (anyRoomOnline.value) return 'online';
  if (!online.value) return 'offline';
  const failed = Object.values(rooms.value).some((s) => s === 'offline' || s === 'closed');
  return failed || (!startingUp.value && Date.now() - bootedAt > 6000) ? 'offline' : 'connecting';
});

/** This device's entries up to this comparable reached a room; later ones are pending. */
export const published = signal(0);

// --- boot -----------------------------------------------------------------

export async function boot(): Promise<Peer> {
  const { store, persisted: kept } = await IdbStore.open('effigy', { requestPersistence: true });
  persisted.value = kept;
  const p = await Peer.open({
    store,
    // Host candidates, plus TURN when the server that served the app has one; the room relays otherwise.
    rtc: iceConfig,
  });
  deviceKeyPair = (await loadKeys(store)).device;
  privacy.value = p.privacy();
  instance = p;
  // For the curious and for tests: the engine, from the browser console.
  (globalThis as { effigy?: Peer }).effigy = p;

  published.value = p.publishedUpTo();
  p.events.on('published', ({ identity, comparable }) => {
    if (identity === p.identity) published.value = Math.max(published.value, comparable);
  });
  p.events.on('entry', bump);
  p.events.on('head', bump);
  p.events.on('drop', bump);
  p.recovery.events.on('changed', () => {
    recoveryTick.value++;
    bump();
  });
  p.recovery.events.on('restored', () => {
    bump();
    notify('Your account is back. Your posts and follows are syncing from your friends.');
  });
  p.events.on('room', ({ url, status }) => {
    if (joined.has(url)) rooms.value = { ...rooms.value, [url]: status };
    // The session is up: fetch TURN credentials now, so the first link does not wait for them.
    if (status === 'online') void iceConfig();
  });
  // Keep credentials fresh (the source refreshes at 80% of their lifetime) and the status current.
  setInterval(() => void iceConfig(), 60_000);
  p.events.on('peer', () => {
    links.value = p.links();
  });
  p.events.on('sync', (s) => {
    syncs.value = { ...syncs.value, [`${s.peer}|${s.identity}`]: { ...s, at: Date.now() } };
  });
  p.events.on('blob', (b) => {
    blobs.value = { ...blobs.value, [b.hash]: { ...b, at: Date.now() } };
  });
  p.events.on('log', (line) => {
    logs.value = [...logs.value.slice(-79), `${new Date().toLocaleTimeString()} ${line.replace(/\bsynod(s?)\b/g, 'account$1')}`];
  });
  p.events.on('rejected', (r) => {
    logs.value = [
      ...logs.value.slice(-79),
      `${new Date().toLocaleTimeString()} refused ${r.hash ?? r.identity ?? ''} from ${r.from}: ${r.error.message}`,
    ];
  });

  window.addEventListener('online', () => {
    online.value = true;
    rejoinStalled();
  });
  window.addEventListener('offline', () => (online.value = false));
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && rejoinStalled());

  batch(() => {
    tick.value++;
    links.value = p.links();
  });
  return p;
}

/**
 * After the first paint: TURN credentials and calls (their modules load now,
 * nobody calls in the first half second), then the rooms. Calls listen before any room
 * connects, so no call is missed.
 */
export async function startNetwork(): Promise<void> {
  const p = instance;
  if (!p || networkStarted) return;
  const [{ Calls }, { TurnCredentialSource }, keys] = await Promise.all([loadCalls(), loadTurn(), loadKeys(p.replica.store)]);
  turnSource = new TurnCredentialSource(location.origin, keys.device);
  callsInstance = new Calls(p, { rtc: iceConfig });
  callsInstance.events.on('call', (c) => (currentCall.value = { ...c }));
  callsInstance.events.on('refused', ({ device, reason }) => {
    logs.value = [...logs.value.slice(-79), `${new Date().toLocaleTimeString()} refused a call from ${device}: ${reason}`];
  });
  (globalThis as { effigyCalls?: Calls }).effigyCalls = callsInstance;
  networkStarted = true;
  reconcileRooms();
}

/** Who is reachable right now, by identity: the transport of a live link. */
export const transportOf = (identity: Identity): string | null => links.value.find((l) => l.identity === identity)?.transport ?? null;
