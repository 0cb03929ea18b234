/** The network as it is: rooms, peers with how each is reached and why it is linked, sync and blob transfers, offline state, privacy. */
import type { Identity } from '../../../src/protocol/index.ts';
import {
  blobs,
  LINK_LIMITS,
  links,
  logs,
  online,
  persisted,
  privacy,
  rooms,
  syncs,
  turnStatus,
  type LinkReason,
  type SyncRow as SyncRowData,
} from '../engine.ts';
import { bytes, shortId, when } from '../lib/format.ts';
import { CallControls } from './call.tsx';
import { Progress, ScreenTitle, useProfile, displayName } from './common.tsx';
import { PrivacySettings } from './privacy.tsx';

const TRANSPORT_TEXT: Record<string, string> = {
  webrtc: 'WebRTC (direct)',
  relay: 'Relayed through the room',
  websocket: 'WebSocket',
  memory: 'in memory',
};

/** Why a link exists, in the person's words. */
const WHY: Record<LinkReason, string> = {
  device: 'your device',
  mutual: 'you follow · follows you',
  follow: 'you follow',
  follower: 'follows you',
  pub: 'pub',
  served: 'stranger you serve as a pub',
  claimed: 'says it is a device of someone you follow or yours (checking)',
};

function Name({ identity }: { identity: Identity }) {
  const profile = useProfile(identity);
  return (
    <a href={`#/id/${identity}`} title={identity}>
      {displayName(identity, profile)}
    </a>
  );
}

function SyncRow({ row, transport }: { row: SyncRowData; transport: string }) {
  const of = displayName(row.identity, useProfile(row.identity));
  const from = displayName(row.peer, useProfile(row.peer));
  const via = transport === 'room' ? 'the server' : (TRANSPORT_TEXT[transport] ?? transport);
  const n = `${row.received} entr${row.received === 1 ? 'y' : 'ies'}`;
  return (
    <li data-identity={row.identity} data-peer={row.peer} data-transport={transport}>
      <Progress
        value={row.done ? 1 : 0}
        max={row.done ? 1 : null}
        label={`${n} of ${of} (${shortId(row.identity)}) from ${from} via ${via}${row.done ? ', done' : '…'} (${when(row.at)})`}
      />
    </li>
  );
}

export function Network() {
  const roomList = Object.entries(rooms.value);
  const peerList = links.value;
  const transportOf = (i: Identity) => peerList.find((l) => l.identity === i)?.transport ?? 'room';
  const syncList = Object.values(syncs.value)
    .sort((a, b) => b.at - a.at)
    .slice(0, 30);
  const blobList = Object.entries(blobs.value)
    .sort((a, b) => b[1].at - a[1].at)
    .slice(0, 20);
  const onlineRooms = roomList.filter(([, s]) => s === 'online').length;
  return (
    <>
      <ScreenTitle>Network</ScreenTitle>
      <section class="card status-summary" aria-label="Status">
        <p>
          <span class={`dot ${onlineRooms ? 'on' : 'off'}`} aria-hidden="true" />
          <span data-testid="net-summary">
            {onlineRooms
              ? `Online: ${onlineRooms} of ${roomList.length} server(s) connected, ${peerList.length} peer(s) linked.`
              : !online.value
                ? 'This browser is offline. Everything you do is kept here and shared when the network returns.'
                : 'No server is reachable right now; retrying. Posts are kept here until then.'}
          </span>
        </p>
        <p class="hint" data-testid="turn-status" data-turn={turnStatus.value === null ? 'unknown' : String(turnStatus.value.turn)}>
          {turnStatus.value === null
            ? 'Relay (TURN): not asked yet.'
            : turnStatus.value.turn
              ? `Relay (TURN): available; peers behind strict NATs connect through it${privacy.value.hideAddress ? ' (this browser relays everything: your address is hidden)' : ''}.`
              : `Relay (TURN): not available (${turnStatus.value.note ?? 'no TURN server'}); ${privacy.value.hideAddress ? 'your address is hidden, so every link goes through the server' : 'direct connections only (host/STUN), the room relays otherwise'}.`}
        </p>
        <p class="hint">
          {persisted.value === false
            ? 'The browser may clear this site’s storage when space runs low; your devices and friends hold copies of your feeds.'
            : persisted.value
              ? 'Storage is persistent on this browser.'
              : ''}
        </p>
      </section>

      <section aria-labelledby="rooms-h">
        <h3 id="rooms-h">Servers</h3>
        <ul class="rows">
          {roomList.map(([url, status]) => (
            <li key={url}>
              <code>{url}</code> <span class={`badge status-${status}`}>{status}</span>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="peers-h">
        <h3 id="peers-h">
          Connected peers{' '}
          <span class="hint" data-testid="link-count">
            ({peerList.length} of at most {LINK_LIMITS.maxLinks})
          </span>
        </h3>
        <p class="hint">
          This device links only with your other devices, people you follow, people who follow you, and pubs; never with strangers
          {privacy.value.pub ? ', except those it serves as a pub' : ''}. When there are too many, the least useful link goes first.
        </p>
        {peerList.length === 0 ? (
          <p class="empty">No peers connected. Peers connect when they are online at the same time.</p>
        ) : (
          <ul class="rows peers" data-testid="peers">
            {peerList.map((l) => (
              <li key={l.identity} data-identity={l.identity} data-transport={l.transport} data-reason={l.reason ?? 'direct'}>
                <Name identity={l.identity} /> <code>{shortId(l.identity)}</code>{' '}
                <span class="badge why" data-testid="why">
                  {l.reason ? WHY[l.reason] : 'linked directly'}
                </span>{' '}
                <span class={`badge transport ${l.transport}`}>{TRANSPORT_TEXT[l.transport] ?? l.transport}</span>{' '}
                <CallControls device={l.identity} />
              </li>
            ))}
          </ul>
        )}
      </section>

      <PrivacySettings />

      <section aria-labelledby="sync-h">
        <h3 id="sync-h">Sync</h3>
        {syncList.length === 0 ? (
          <p class="empty">Nothing synced yet in this session.</p>
        ) : (
          <ul class="rows" data-testid="syncs">
            {syncList.map((s) => (
              <SyncRow key={`${s.peer}|${s.identity}`} row={s} transport={transportOf(s.peer)} />
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="blobs-h">
        <h3 id="blobs-h">Transfers</h3>
        {blobList.length === 0 ? (
          <p class="empty">No images or files transferred yet in this session.</p>
        ) : (
          <ul class="rows">
            {blobList.map(([hash, b]) => (
              <li key={hash}>
                <Progress value={b.done} max={b.total} label={`${shortId(hash)}: ${bytes(b.done)} of ${bytes(b.total)}`} />
              </li>
            ))}
          </ul>
        )}
      </section>

      <details>
        <summary>Log</summary>
        <pre class="log">{logs.value.join('\n') || 'Empty.'}</pre>
      </details>
    </>
  );
}
