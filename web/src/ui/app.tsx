/** The shell: header with network state, navigation, the current screen, notices. */
import { useEffect } from 'preact/hooks';
import { anyRoomOnline, bootError, membership, notices, online, rejoinStalled, tick, updateReady } from '../engine.ts';
import { route } from '../router.ts';
import { Devices, Profile } from './account.tsx';
import { Inbox, refreshUnread, unread } from './inbox.tsx';
import { CallPanel } from './call.tsx';
import { Alert } from './forms.tsx';
import { Network } from './network.tsx';
import { IdentityPage, People } from './people.tsx';
import { EntryPage, Post, Timeline } from './posts.tsx';
import { Private } from './private.tsx';
import { Servers } from './servers.tsx';
import { freshWords, Start } from './start.tsx';

const NAV: [string, string][] = [
  ['timeline', 'Timeline'],
  ['post', 'Post'],
  ['people', 'People'],
  ['inbox', 'Inbox'],
  ['private', 'Private'],
  ['profile', 'Profile'],
  ['devices', 'Devices'],
  ['servers', 'Servers'],
  ['network', 'Network'],
];

function Screen() {
  const { name, arg } = route.value;
  switch (name) {
    case 'post':
      return <Post />;
    case 'people':
      return <People />;
    case 'inbox':
      return <Inbox to={arg} />;
    case 'private':
      return <Private />;
    case 'profile':
      return <Profile />;
    case 'devices':
      return <Devices />;
    case 'servers':
      return <Servers />;
    case 'network':
      return <Network />;
    case 'id':
      return <IdentityPage identity={arg} />;
    case 'entry':
      return <EntryPage hash={arg} />;
    default:
      return <Timeline />;
  }
}

function NetPill() {
  // navigator.onLine can say "offline" while a server on this network answers (and the reverse): trust the rooms first.
  const state = anyRoomOnline.value ? 'online' : !online.value ? 'offline' : 'connecting';
  const text = state === 'offline' ? 'Offline' : state === 'online' ? 'Online' : 'Connecting…';
  return (
    <a href="#/network" class={`pill ${state}`} data-state={state} aria-label={`Network: ${text}. Open the network screen.`}>
      <span class="dot" aria-hidden="true" />
      {text}
    </a>
  );
}

function Notices() {
  return (
    <div class="notices" role="status" aria-live="polite">
      {notices.value.map((n) => (
        <p key={n.id} class={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : undefined}>
          {n.text}
        </p>
      ))}
    </div>
  );
}

export function App() {
  void tick.value;
  useEffect(() => {
    if (membership.value === 'member') void refreshUnread();
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
  const current = route.value.name;
  return (
    <>
      <header class="top">
        <a href="#/" class="brand">
          <img src="/icon.svg" alt="" width={28} height={28} />
          <span>Effigy</span>
        </a>
        <NetPill />
      </header>
      <nav aria-label="Main" class="nav">
        <ul>
          {NAV.map(([name, label]) => (
            <li key={name}>
              <a href={`#/${name}`} aria-current={current === name ? 'page' : undefined}>
                {label}
                {name === 'inbox' && unread.value > 0 && (
                  <span class="count" aria-label={`${unread.value} unread`}>
                    {unread.value}
                  </span>
                )}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {!anyRoomOnline.value ? (
        <p class="banner offline" role="status">
          {!online.value ? 'You are offline.' : 'Not connected to a server.'} You can keep posting: it is saved here and published when the
          network returns.{' '}
          <button type="button" class="small secondary" onClick={rejoinStalled}>
            Retry now
          </button>
        </p>
      ) : null}
      <CallPanel />
      {updateReady.value && (
        <p class="banner" role="status">
          A new version of Effigy is ready.{' '}
          <button type="button" class="small" onClick={() => location.reload()}>
            Reload
          </button>
        </p>
      )}
      <main id="main" key={`${current}/${route.value.arg}`}>
        <Screen />
      </main>
      <Notices />
    </>
  );
}
