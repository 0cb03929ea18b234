/** Me: who you are (profile, invite link and QR) and the settings: devices, servers, network, notifications, recovery. */
import { useId, useState } from 'preact/hooks';
import type { BlobRef, Identity } from '../../../src/protocol/index.ts';
import { explain, netState, notify, peer, tick } from '../engine.ts';
import { ImageError, removedText, type PreparedImage } from '../lib/image-kinds.ts';
import { Avatar, BlobImage, displayName, ScreenTitle, useProfile } from './common.tsx';
import { IdentityCard } from './identity-card.tsx';
import { Alert, Field, useAction } from './forms.tsx';

/** What an account is, in plain words: said at creation and under Me. */
export const ACCOUNT_TEXT =
  'Your account is you on Effigy: your name, your picture and your posts. It lives on your own devices, not on a company’s server. ' +
  'Each device (this browser, your phone, a laptop) has its own key and joins the account; people who follow you see what any of them posts.';

export const KEY_NOTE =
  'Only a device holding the account key (the one that created the account, or one restored from its 24 words) can change this.';

function Setting({ href, title, hint }: { href: string; title: string; hint: string }) {
  return (
    <li>
      <a href={href} class="setting">
        <span class="title">{title}</span>
        <span class="hint">{hint}</span>
      </a>
    </li>
  );
}

export function Me() {
  const p = peer();
  void tick.value;
  const synod = p.synodIdentity as Identity;
  const profile = useProfile(synod);
  const state = p.synodState();
  const devices = [...(state?.devices.values() ?? [])].filter((d) => d.cut === null).length;
  const here = state?.devices.get(p.identity)?.name;
  return (
    <>
      <div class="profile-head">
        <Avatar identity={synod} profile={profile} size={64} />
        <div>
          <ScreenTitle>{displayName(synod, profile)}</ScreenTitle>
          <p class="hint">{profile?.about || 'No description yet.'}</p>
        </div>
      </div>
      <p class="row">
        <a class="button secondary small" href="#/profile">
          Edit profile
        </a>
        <a class="button secondary small" href={`#/id/${synod}`}>
          See my page
        </a>
      </p>
      <IdentityCard
        identity={synod}
        title="Your invite link"
        note="Send it, or let people scan the code: it opens Effigy at your profile, with a Follow button."
        qrSize={168}
      />
      <h3>Settings</h3>
      <ul class="settings">
        <Setting href="#/devices" title="Devices" hint={`${devices} linked${here ? `; this one is “${here}”` : ''}. Link a new one.`} />
        <Setting href="#/servers" title="Servers" hint="Where your devices and friends meet, and where strangers can write to you." />
        <Setting
          href="#/private-posts"
          title="Private posts"
          hint={p.privateFeed.isPrivate ? 'On: only followers you approve read your posts.' : 'Off: your posts are public.'}
        />
        <Setting href="#/network" title="Network" hint={`${netState.value === 'online' ? 'Online' : 'Offline'}: servers, peers, sync.`} />
        <Setting href="#/notifications" title="Notifications" hint="Be told of messages and calls while Effigy is closed." />
        <Setting
          href="#/recovery"
          title="Recovery friends"
          hint="Friends who can give your account back together; shares you keep for friends."
        />
        {p.holdsSynodKey && <Setting href="#/words" title="Recovery words" hint="The 24 words that restore your account." />}
      </ul>
      <details class="card plain-words">
        <summary>What is an account?</summary>
        <p>{ACCOUNT_TEXT} Your 24 recovery words bring it back if every device is lost.</p>
      </details>
    </>
  );
}

export function EditProfile() {
  const p = peer();
  void tick.value;
  const current = p.synodState()?.profile ?? {};
  const avatarId = useId();
  const [name, setName] = useState(current.name ?? '');
  const [about, setAbout] = useState(current.about ?? '');
  const [avatar, setAvatar] = useState<PreparedImage | null>(null);
  const { busy, error, setError, run } = useAction();
  const holder = p.holdsSynodKey;
  return (
    <>
      <ScreenTitle>Profile</ScreenTitle>
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
                  setAvatar(await (await import('../lib/image.ts')).prepareImage(file, 512));
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
      <section class="card">
        <h3>This device</h3>
        <p class="hint">This browser's own key, for the curious: people follow your account, not this.</p>
        <code class="identity" data-device-identity={p.identity}>
          {p.identity}
        </code>
      </section>
    </>
  );
}
