/** The account (synod): profile, devices, servers. Changing them needs the synod key. */
import { useId, useState } from 'preact/hooks';
import { endpointSchema, type BlobRef, type Identity } from '../../../src/protocol/index.ts';
import { defaultServers, dropboxRoom, explain, notify, peer, rooms, tick, toRoomUrl, transportOf } from '../engine.ts';
import { exactTime, shortId } from '../lib/format.ts';
import { ImageError, prepareImage, removedText, type PreparedImage } from '../lib/image.ts';
import { Avatar, BlobImage, Confirm, CopyButton, IdentityCard, ScreenTitle, useProfile, useAction } from './common.tsx';
import { Scanner } from './qr.tsx';
import { StartOver, Words } from './start.tsx';

const KEY_NOTE =
  'Only a device holding the account key (the one that created the account, or one restored from its 24 words) can change this.';

export function Profile() {
  const p = peer();
  void tick.value;
  const synod = p.synodIdentity as Identity;
  const current = p.synodState()?.profile ?? {};
  const profile = useProfile(synod);
  const nameId = useId();
  const aboutId = useId();
  const avatarId = useId();
  const [name, setName] = useState(current.name ?? '');
  const [about, setAbout] = useState(current.about ?? '');
  const [avatar, setAvatar] = useState<PreparedImage | null>(null);
  const { busy, error, setError, run } = useAction();
  const holder = p.holdsSynodKey;
  return (
    <>
      <div class="profile-head">
        <Avatar identity={synod} profile={profile} size={72} />
        <ScreenTitle>{current.name || 'Your profile'}</ScreenTitle>
      </div>
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          await run(async () => {
            let ref: BlobRef | undefined = current.avatar;
            if (avatar) ref = await p.addBlob(avatar.bytes);
            await p.setProfile({
              ...(name.trim() && { name: name.trim() }),
              ...(about.trim() && { about: about.trim() }),
              ...(ref && { avatar: ref }),
            });
            setAvatar(null);
            notify('Profile saved.');
          });
        }}
      >
        <h3>Profile</h3>
        {!holder && <p class="hint">{KEY_NOTE}</p>}
        <fieldset class="plain" disabled={!holder || busy}>
          <div class="field">
            <label for={nameId}>Display name</label>
            <input id={nameId} type="text" maxLength={64} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for={aboutId}>About</label>
            <textarea
              id={aboutId}
              rows={3}
              maxLength={1000}
              value={about}
              onInput={(e) => setAbout((e.target as HTMLTextAreaElement).value)}
            />
          </div>
          <div class="field">
            <label for={avatarId}>Avatar image</label>
            <input
              id={avatarId}
              type="file"
              accept="image/*"
              onChange={async (e) => {
                const file = (e.target as HTMLInputElement).files?.[0];
                if (!file) return;
                try {
                  setAvatar(await prepareImage(file, 512));
                  setError(null);
                } catch (err) {
                  setError(err instanceof ImageError ? err.message : explain(err));
                }
              }}
            />
            {avatar ? (
              <p class="hint">{removedText(avatar.removed)}</p>
            ) : current.avatar ? (
              <BlobImage blob={current.avatar} alt="Current avatar" class="avatar-preview" />
            ) : null}
          </div>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit">Save profile</button>
        </fieldset>
      </form>
      <IdentityCard
        identity={synod}
        title="Your identity"
        note="Share it (or let people scan the code) so they can follow you and write to you."
      />
      <section class="card">
        <h3>This device</h3>
        <p class="hint">Each device signs with its own key; people who follow your account follow all your devices.</p>
        <p>
          <code class="identity" data-device-identity={p.identity}>
            {p.identity}
          </code>
        </p>
        <CopyButton text={p.identity} label="Copy device identity" />
      </section>
      {holder && (
        <details class="card">
          <summary>Show my 24 recovery words</summary>
          <p class="warning">Anyone who sees these words can take over your account. Make sure nobody is watching.</p>
          <Words words={p.mnemonic() ?? ''} />
        </details>
      )}
    </>
  );
}

function AddDevice() {
  const codeId = useId();
  const nameId = useId();
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [scanning, setScanning] = useState(false);
  const { busy, error, setError, run } = useAction();
  return (
    <form
      class="card"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!code.trim()) return setError('Paste or scan the pairing code shown on the new device.');
        await run(async () => {
          await peer().acceptPairing(code.trim(), name.trim() || undefined);
          setCode('');
          setName('');
          notify('Device added. It will sync your account now.');
        });
      }}
    >
      <h3>Add a device</h3>
      <p class="hint">
        On the new device choose <strong>Add this browser to an account I have</strong> and enter your identity. It then shows a pairing
        code: scan it here or paste it. Both signatures together make it a member.
      </p>
      <div class="field">
        <label for={codeId}>Pairing code</label>
        <textarea id={codeId} rows={3} spellcheck={false} value={code} onInput={(e) => setCode((e.target as HTMLTextAreaElement).value)} />
        <button type="button" class="secondary" aria-expanded={scanning} onClick={() => setScanning(!scanning)}>
          Scan code
        </button>
        {scanning && (
          <Scanner
            onClose={() => setScanning(false)}
            onResult={(t) => {
              setScanning(false);
              setCode(t);
            }}
          />
        )}
      </div>
      <div class="field">
        <label for={nameId}>Name for the device (optional)</label>
        <input
          id={nameId}
          type="text"
          maxLength={64}
          placeholder="e.g. Phone"
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        Add device
      </button>
    </form>
  );
}

export function Devices() {
  const p = peer();
  void tick.value;
  const state = p.synodState();
  const devices = [...(state?.devices.values() ?? [])];
  return (
    <>
      <ScreenTitle>Devices</ScreenTitle>
      <ul class="devices" aria-label="Devices of this account">
        {devices.map((d) => {
          const self = d.device === p.identity;
          const transport = transportOf(d.device);
          return (
            <li key={d.device} class={`device ${d.cut !== null ? 'revoked' : ''}`}>
              <div>
                <strong>{d.name || 'Unnamed device'}</strong>
                {self && <span class="badge ok">This device</span>}
                {d.cut !== null && <span class="badge warn">Removed (entries after {exactTime(d.cut)} refused)</span>}
                {transport && <span class={`badge transport ${transport}`}>online · {transport}</span>}
                <p class="hint">
                  <code title={d.device}>{shortId(d.device)}</code>
                </p>
              </div>
              {p.holdsSynodKey && !self && d.cut === null && (
                <Confirm
                  label="Remove"
                  confirmLabel="Remove this device"
                  warning={
                    <p>
                      Everyone will refuse what this device posts from now on, and it can never be added again. Use this for a lost or
                      stolen device.
                    </p>
                  }
                  onConfirm={async () => {
                    await p.revokeDevice(d.device);
                    notify('Device removed.');
                  }}
                />
              )}
            </li>
          );
        })}
      </ul>
      {p.holdsSynodKey ? <AddDevice /> : <p class="hint">{KEY_NOTE}</p>}
      <StartOver />
    </>
  );
}

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
  let text = input.trim();
  if (!text) return { error: 'Type a server address first.' };
  if (!/^[a-z]+:\/\//i.test(text)) text = `https://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: `"${input}" is not a web address.` };
  }
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
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [force, setForce] = useState<string | null>(null);
  const roomOf = (url: string) => (kind === 'signalling' ? toRoomUrl(url) : dropboxRoom(url));
  const add = async (e: Event) => {
    e.preventDefault();
    const n = normalize(kind, text);
    if ('error' in n) return setError(n.error);
    if (list.includes(n.url)) return setError('That server is already listed.');
    setBusy(true);
    setError(null);
    try {
      if (force !== n.url) await probe(roomOf(n.url));
      await onSave([...list, n.url]);
      setText('');
      setForce(null);
      notify('Server added.');
    } catch (err) {
      setForce(n.url);
      setError(`${explain(err)}. Nothing was changed. Check the address, or press Add again to add it anyway.`);
    } finally {
      setBusy(false);
    }
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
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
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
