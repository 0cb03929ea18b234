/** The servers the account publishes: signalling rooms and dropboxes, each checked before it is added. */
import { useId, useState } from 'preact/hooks';
import { endpointSchema } from '../../../src/protocol/index.ts';
import { defaultServers, dropboxRoom, explain, notify, peer, rooms, tick, toRoomUrl } from '../engine.ts';
import { KEY_NOTE } from './me.tsx';
import { parseServerAddress } from '../lib/format.ts';
import { ScreenTitle } from './common.tsx';
import { Alert, useAction } from './forms.tsx';

/** Open a WebSocket to the address and close it: does anything answer there? */
function probe(url: string, ms = 6000): Promise<void> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      return reject(new Error(`${url} is not a WebSocket address this page may open`));
    }
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`no answer from ${url} within ${ms / 1000} s`));
    }, ms);
    ws.onopen = () => {
      clearTimeout(timer);
      ws.close(1000, 'probe');
      resolve();
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error(`could not connect to ${url}`));
    };
  });
}

type Kind = 'signalling' | 'dropboxes';

function normalize(kind: Kind, input: string): { url: string } | { error: string } {
  const parsed = parseServerAddress(input);
  if (!parsed.ok) return { error: parsed.message };
  const url = parsed.value;
  if (kind === 'signalling') {
    const room = toRoomUrl(url.toString());
    const checked = endpointSchema.safeParse(room);
    return checked.success ? { url: room } : { error: 'A signalling server is a wss:// address (ws:// and http:// only for localhost).' };
  }
  const origin = url.pathname.startsWith('/room/') ? url.toString() : url.origin;
  const checked = endpointSchema.safeParse(origin);
  return checked.success ? { url: origin } : { error: 'A dropbox is an https:// address (http:// only for localhost).' };
}

function ServerList({
  kind,
  list,
  holder,
  onSave,
}: {
  kind: Kind;
  list: readonly string[];
  holder: boolean;
  onSave: (next: string[]) => Promise<void>;
}) {
  const inputId = useId();
  const [text, setText] = useState('');
  const { busy, error, setError, run } = useAction();
  const [force, setForce] = useState<string | null>(null);
  const roomOf = (url: string) => (kind === 'signalling' ? toRoomUrl(url) : dropboxRoom(url));
  const add = async (e: Event) => {
    e.preventDefault();
    const n = normalize(kind, text);
    if ('error' in n) return setError(n.error);
    if (list.includes(n.url)) return setError('That server is already listed.');
    await run(
      async () => {
        try {
          if (force !== n.url) await probe(roomOf(n.url));
          await onSave([...list, n.url]);
        } catch (err) {
          setForce(n.url); // a second press adds it anyway
          throw err;
        }
        setText('');
        setForce(null);
        notify('Server added.');
      },
      (why) => `${why}. Nothing was changed. Check the address, or press Add again to add it anyway.`,
    );
  };
  return (
    <section class="card" aria-labelledby={`${inputId}-h`}>
      <h3 id={`${inputId}-h`}>{kind === 'signalling' ? 'Signalling servers' : 'Dropboxes'}</h3>
      <p class="hint">
        {kind === 'signalling'
          ? 'Where your devices and friends find each other and start direct connections.'
          : 'Where people who do not follow you can leave messages for you.'}
      </p>
      {list.length === 0 ? (
        <p class="empty">
          {kind === 'signalling' ? 'None listed: this device uses the server it was loaded from.' : 'None: nobody can leave you messages.'}
        </p>
      ) : (
        <ul class="servers">
          {list.map((url) => {
            const status = rooms.value[roomOf(url)] ?? 'not connected';
            return (
              <li key={url}>
                <code>{url}</code> <span class={`badge status-${status.replace(' ', '-')}`}>{status}</span>
                {holder && (
                  <button
                    type="button"
                    class="secondary small"
                    aria-label={`Remove ${url}`}
                    onClick={async () => {
                      try {
                        await onSave(list.filter((u) => u !== url));
                        notify('Server removed.');
                      } catch (err) {
                        notify(explain(err), 'error');
                      }
                    }}
                  >
                    Remove
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {holder && (
        <form onSubmit={add} class="add-server">
          <label for={inputId}>{kind === 'signalling' ? 'Add a signalling server' : 'Add a dropbox'}</label>
          <div class="row">
            <input
              id={inputId}
              type="text"
              inputMode="url"
              placeholder={kind === 'signalling' ? 'wss://example.org/room/main' : 'https://example.org'}
              value={text}
              aria-invalid={error ? true : undefined}
              onInput={(e) => {
                setText((e.target as HTMLInputElement).value);
                setForce(null);
              }}
            />
            <button type="submit" disabled={busy}>
              {busy ? 'Checking…' : 'Add'}
            </button>
          </div>
          <Alert>{error}</Alert>
        </form>
      )}
    </section>
  );
}

export function Servers() {
  const p = peer();
  void tick.value;
  const state = p.synodState();
  const signalling = state?.signalling ?? [];
  const dropboxes = state?.dropboxes ?? [];
  const holder = p.holdsSynodKey;
  const defaults = defaultServers();
  return (
    <>
      <ScreenTitle>Servers</ScreenTitle>
      <p>
        Your account publishes these, so your devices and friends know where to find you. Point them at an endpoint you host to move; this
        app was loaded from <code>{location.origin}</code>.
      </p>
      {!holder && <p class="hint">{KEY_NOTE}</p>}
      <ServerList
        kind="signalling"
        list={signalling}
        holder={holder}
        onSave={async (next) => void (await p.setServers(next, [...dropboxes]))}
      />
      <ServerList
        kind="dropboxes"
        list={dropboxes}
        holder={holder}
        onSave={async (next) => void (await p.setServers([...signalling], next))}
      />
      {holder && (signalling.join() !== defaults.signalling.join() || dropboxes.join() !== defaults.dropboxes.join()) && (
        <button
          type="button"
          class="secondary"
          onClick={async () => {
            await p.setServers(defaults.signalling, defaults.dropboxes);
            notify('Servers reset to this origin.');
          }}
        >
          Use only {location.host}
        </button>
      )}
    </>
  );
}
