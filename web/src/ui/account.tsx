/** The account (synod): profile and devices (servers.tsx: its servers). Changing them needs the synod key. */
import { useId, useState } from 'preact/hooks';
import type { BlobRef, Identity } from '../../../src/protocol/index.ts';
import { explain, notify, peer, tick, transportOf } from '../engine.ts';
import { exactTime, shortId } from '../lib/format.ts';
import { ImageError, prepareImage, removedText, type PreparedImage } from '../lib/image.ts';
import { Avatar, BlobImage, CopyButton, IdentityCard, ScreenTitle, useAsync, useProfile } from './common.tsx';
import { Alert, Confirm, Field, useAction } from './forms.tsx';
import { useScan } from './qr.tsx';
import { StartOver, Words } from './start.tsx';

export const KEY_NOTE =
  'Only a device holding the account key (the one that created the account, or one restored from its 24 words) can change this.';

export function Profile() {
  const p = peer();
  void tick.value;
  const synod = p.synodIdentity as Identity;
  const current = p.synodState()?.profile ?? {};
  const profile = useProfile(synod);
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
          <Field label="Display name" maxLength={64} value={name} onValue={setName} />
          <Field label="About" rows={3} maxLength={1000} value={about} onValue={setAbout} />
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
          <Alert>{error}</Alert>
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
          <Words words={useAsync(() => p.mnemonic(), []).value ?? ''} />
        </details>
      )}
    </>
  );
}

function AddDevice() {
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const scan = useScan(setCode, 'Scan code');
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
      <Field label="Pairing code" rows={3} spellcheck={false} value={code} onValue={setCode}>
        {scan.button}
        {scan.scanner}
      </Field>
      <Field label="Name for the device (optional)" maxLength={64} placeholder="e.g. Phone" value={name} onValue={setName} />
      <Alert>{error}</Alert>
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
