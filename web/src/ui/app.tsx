/** The shell: header with network state, the five tabs, the current screen, notices. */
import { useEffect } from 'preact/hooks';
import { loadThreads } from '../conversations.ts';
import { bootError, clearNoticesOnLeave, currentCall, membership, netState, notices, rejoinStalled, tick, updateReady } from '../engine.ts';
import { route } from '../router.ts';
import { Compose } from './compose.tsx';
import { Alert } from './forms.tsx';
import { lazy } from './lazy.tsx';
import { RecoveryNotice } from './recovery-notice.tsx';
import { TabBar } from './tabs.tsx';
import { EntryPage, Home, TagPage } from './timeline.tsx';
import { freshWords } from './words.tsx';

// The tabs besides Home load right after the first paint (preloadTabs), so the
// first screen does not wait for them and opening one does not either.
const People = lazy(() => import('./people.tsx').then((m) => m.People));
const IdentityPage = lazy(() => import('./person.tsx').then((m) => m.IdentityPage));
const Messages = lazy(() => import('./messages.tsx').then((m) => m.Messages));
const ThreadPage = lazy(() => import('./messages.tsx').then((m) => m.ThreadPage));
const Me = lazy(() => import('./me.tsx').then((m) => m.Me));
const EditProfile = lazy(() => import('./me.tsx').then((m) => m.EditProfile));

/** Fetch the other tabs' screens once the browser is idle after the first paint. */
export function preloadTabs(): void {
  const go = () => void Promise.all([People, IdentityPage, Messages, Me].map((s) => s.preload())).catch(() => undefined);
  if ('requestIdleCallback' in globalThis) requestIdleCallback(go, { timeout: 2000 });
  else setTimeout(go, 500);
}

// Rarely opened, or opened once: loaded on first use.
// The call screen loads when a call rings or is placed (the engine sets currentCall).
const CallPanel = lazy(() => import('./call.tsx').then((m) => m.CallPanel));
const CallWaiting = lazy(() => import('./call.tsx').then((m) => m.CallWaiting));
const Start = lazy(() => import('./start.tsx').then((m) => m.Start));
const Devices = lazy(() => import('./devices.tsx').then((m) => m.Devices));
const Servers = lazy(() => import('./servers.tsx').then((m) => m.Servers));
const Network = lazy(() => import('./network.tsx').then((m) => m.Network));
const RecoveryWords = lazy(() => import('./start.tsx').then((m) => m.RecoveryWords));
const PrivateFeedSettings = lazy(() => import('./private-feed.tsx').then((m) => m.PrivateFeedSettings));
const RecoveryFriends = lazy(() => import('./recovery.tsx').then((m) => m.RecoveryFriends));
const Notifications = lazy(() => import('./notifications.tsx').then((m) => m.Notifications));

/** Settings open from Me; on a phone the way back is at the top, where the screen starts. */
const UNDER_ME = new Set(['profile', 'devices', 'pair', 'servers', 'network', 'words', 'recovery', 'notifications', 'private-posts']);

function Screen() {
  const { name } = route.value;
  if (!UNDER_ME.has(name)) return <Page />;
  return (
    <>
      <p class="back">
        <a href="#/me">← Me</a>
      </p>
      <Page />
    </>
  );
}

function Page() {
  const { name, arg } = route.value;
  switch (name) {
    case 'compose':
      return <Compose />;
    case 'people':
      return <People />;
    case 'messages':
      return <Messages />;
    case 'thread':
      return <ThreadPage threadKey={arg} />;
    case 'me':
      return <Me />;
    case 'profile':
      return <EditProfile />;
    case 'devices':
    case 'pair':
      return <Devices code={name === 'pair' ? arg : ''} />;
    case 'servers':
      return <Servers />;
    case 'network':
      return <Network />;
    case 'words':
      return <RecoveryWords />;
    case 'private-posts':
      return <PrivateFeedSettings />;
    case 'recovery':
      return <RecoveryFriends />;
    case 'notifications':
      return <Notifications />;
    case 'calls':
      return <CallWaiting device={arg} />;
    case 'id':
      return <IdentityPage identity={arg} />;
    case 'add':
      return <IdentityPage identity={arg} invited />;
    case 'entry':
      return <EntryPage hash={arg} />;
    case 'tag':
      return <TagPage tag={arg} />;
    default:
      return <Home />;
  }
}

const NET_TEXT = { online: 'Online', offline: 'Offline', connecting: 'Connecting…' } as const;

function NetPill() {
  const state = netState.value;
  return (
    <a href="#/network" class={`pill ${state}`} data-state={state} aria-label={`Network: ${NET_TEXT[state]}. Open the network screen.`}>
      <span class="dot" aria-hidden="true" />
      {NET_TEXT[state]}
    </a>
  );
}

// A notice belongs to the screen it was raised on (see clearNoticesOnLeave).
if (typeof window !== 'undefined') window.addEventListener('hashchange', () => clearNoticesOnLeave());

function Notices() {
  return (
    <div class="notices" role="status" aria-live="polite">
      {notices.value.slice(-2).map((n) => (
        <p key={n.id} class={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : undefined}>
          {n.text}
        </p>
      ))}
    </div>
  );
}

/** The tab bar's unread count: recounted after data changes, at most every two seconds (a sync brings many). */
let lastCount = 0;
let countTimer: ReturnType<typeof setTimeout> | null = null;
function recountUnread(): void {
  if (countTimer) return;
  countTimer = setTimeout(
    () => {
      countTimer = null;
      lastCount = Date.now();
      void loadThreads().catch(() => undefined);
    },
    Math.max(0, lastCount + 2000 - Date.now()),
  );
}

export function App() {
  void tick.value;
  useEffect(() => {
    if (membership.value === 'member') recountUnread();
  }, [tick.value, membership.value]);
  if (bootError.value) {
    return (
      <main id="main" class="start">
        <h1>Effigy could not start</h1>
        <Alert>{bootError.value}</Alert>
      </main>
    );
  }
  if (membership.value !== 'member' || freshWords.value) {
    return (
      <>
        <Start />
        <Notices />
      </>
    );
  }
  const state = netState.value;
  return (
    <div class="shell">
      <header class="top">
        <a href="#/" class="brand">
          <img src="/icon.svg" alt="" width={28} height={28} />
          <span>Effigy</span>
        </a>
        <NetPill />
      </header>
      <TabBar />
      <div class="column">
        {state !== 'online' && (
          <p class="banner offline" role="status">
            {state === 'offline' ? 'Offline.' : 'Connecting…'} You can keep posting: it is saved here and published when the network
            returns.{' '}
            {state === 'offline' && (
              <button type="button" class="small secondary" onClick={rejoinStalled}>
                Retry now
              </button>
            )}
          </p>
        )}
        {currentCall.value && <CallPanel />}
        {route.value.name !== 'recovery' && <RecoveryNotice />}
        {updateReady.value && (
          <p class="banner" role="status">
            A new version of Effigy is ready.{' '}
            <button type="button" class="small" onClick={() => location.reload()}>
              Reload
            </button>
          </p>
        )}
        <main id="main" key={`${route.value.name}/${route.value.arg}`}>
          <Screen />
        </main>
      </div>
      <Notices />
    </div>
  );
}
