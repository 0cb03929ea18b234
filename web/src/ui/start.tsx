/** First visit: create an identity and account, restore from the 24 words, or join as a new device. */
import { signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { mnemonicToSeed } from '../../../src/protocol/index.ts';
import { anyRoomOnline, defaultServers, membership, notify, peer, tick } from '../engine.ts';
import { checkIdentity, CopyButton, IdentityField, ScreenTitle } from './common.tsx';
import { Alert, Field, useAction } from './forms.tsx';
import { QrCode } from './qr.tsx';

/** The words just made, shown once after creating (the app proper waits until they are written down). */
export const freshWords = signal<string | null>(null);

export function Words({ words, onDone }: { words: string; onDone?: () => void }) {
  const [written, setWritten] = useState(false);
  const list = words.split(' ');
  return (
    <section class="card words" aria-labelledby="words-title">
      <h3 id="words-title">Your 24 recovery words</h3>
      <p>
        Write these words down, in order, on paper. They are the key to your account: with them you can restore it on a new browser if this
        one is lost. Anyone who has them can be you, so keep them private.
      </p>
      <ol class="word-grid" data-testid="mnemonic">
        {list.map((w, i) => (
          <li key={i}>
            <span class="n">{i + 1}</span> <span class="w">{w}</span>
          </li>
        ))}
      </ol>
      {onDone && (
        <>
          <label class="check">
            <input type="checkbox" checked={written} onChange={(e) => setWritten((e.target as HTMLInputElement).checked)} /> I have written
            these 24 words down
          </label>
          <button type="button" disabled={!written} onClick={onDone}>
            Continue
          </button>
        </>
      )}
    </section>
  );
}

/** A start form's buttons: its own, then Back to the choices. */
function Buttons({ onBack, children }: { onBack: () => void; children: ComponentChildren }) {
  return (
    <div class="row">
      {children}
      <button type="button" class="secondary" onClick={onBack}>
        Back
      </button>
    </div>
  );
}

function Create({ onBack }: { onBack: () => void }) {
  const [name, setName] = useState('');
  const { busy, error, run } = useAction();
  return (
    <form
      class="card"
      onSubmit={async (e) => {
        e.preventDefault();
        await run(async () => {
          const trimmed = name.trim();
          const { mnemonic } = await peer().createSynod(trimmed ? { name: trimmed } : {}, defaultServers());
          freshWords.value = mnemonic;
        });
      }}
    >
      <h3>Create your identity</h3>
      <p>This browser makes a key pair for itself and a new account (a synod) that can later include your other devices.</p>
      <Field label="Display name (optional)" maxLength={64} autoComplete="nickname" value={name} onValue={setName} />
      <Alert>{error}</Alert>
      <Buttons onBack={onBack}>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create my identity'}
        </button>
      </Buttons>
    </form>
  );
}

function Restore({ onBack }: { onBack: () => void }) {
  const id = useId();
  const [words, setWords] = useState('');
  const { busy, error, setError, run } = useAction();
  const count = words.trim() ? words.trim().split(/\s+/).length : 0;
  const pendingRestore = peer().holdsSynodKey && !peer().synodState();
  return (
    <form
      class="card"
      onSubmit={async (e) => {
        e.preventDefault();
        const check = await mnemonicToSeed(words);
        if (!check.ok) return setError(`These words cannot be right: ${check.error.message}. Nothing was changed.`);
        await run(
          async () => {
            await peer().restoreSynod(words, 25_000);
            tick.value++;
            notify('Account restored. Your feeds are syncing.');
          },
          (why) => `${why}. Nothing was lost: keep one of your other devices online and try again.`,
        );
      }}
    >
      <h3>Restore from your 24 words</h3>
      {pendingRestore && (
        <p class="warning">
          An earlier restore did not find your account on the network yet. Enter the words again while another of your devices is online.
        </p>
      )}
      <p>
        This browser joins your account as a new device. Your account's data comes from your other devices, so keep one of them open and
        online.
      </p>
      <Field
        label="Recovery words"
        id={id}
        rows={4}
        autoComplete="off"
        autoCapitalize="none"
        spellcheck={false}
        value={words}
        invalid={error !== null}
        describedBy={`${id}-count`}
        onValue={setWords}
      >
        <p class="hint" id={`${id}-count`}>
          {count} of 24 words
        </p>
      </Field>
      <Alert>{error}</Alert>
      {busy && (
        <p role="status" aria-live="polite">
          Looking for your account on connected devices…
        </p>
      )}
      <Buttons onBack={onBack}>
        <button type="submit" disabled={busy}>
          Restore
        </button>
      </Buttons>
    </form>
  );
}

function Pair({ onBack }: { onBack: () => void }) {
  const p = peer();
  const pending = p.synodIdentity && !p.holdsSynodKey ? p.synodIdentity : null;
  const [account, setAccount] = useState('');
  const [code, setCode] = useState<string | null>(null);
  const { error, setError, run } = useAction();
  const check = checkIdentity(account);
  const makeCode = (synod: NonNullable<typeof pending>) => run(async () => setCode(await p.pairingCode(synod)));
  useEffect(() => {
    if (pending) void makeCode(pending);
  }, []);
  if (code) {
    return (
      <section class="card" aria-labelledby="pair-title">
        <h3 id="pair-title">Show this to your other device</h3>
        <p>
          On the device that created your account (or was restored from its words), open <strong>Devices → Add a device</strong> and scan
          this code, or paste the text below. This page continues by itself once it is accepted.
        </p>
        <QrCode text={code} label="Pairing code as a QR code" size={260} />
        <Field
          label="Pairing code"
          id="pairing-code"
          readOnly
          rows={4}
          value={code}
          onFocus={(e) => (e.target as HTMLTextAreaElement).select()}
        />
        <div class="row">
          <CopyButton text={code} label="Copy code" />
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setCode(null);
              setAccount('');
              onBack();
            }}
          >
            Use another account
          </button>
        </div>
        <p role="status" aria-live="polite" class="hint">
          {anyRoomOnline.value
            ? 'Waiting for your other device to accept…'
            : 'Not connected to a server yet: the code works once both devices are online.'}
        </p>
      </section>
    );
  }
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        if (!check.identity) return setError(check.error ?? 'Paste or scan the account identity first.');
        void makeCode(check.identity);
      }}
    >
      <h3>Add this browser to your account</h3>
      <p>
        On your other device, open <strong>Profile</strong>: it shows your account identity as text and as a QR code.
      </p>
      <IdentityField label="Account identity" value={account} onValue={setAccount} error={account ? check.error : error} />
      <Buttons onBack={onBack}>
        <button type="submit">Next</button>
      </Buttons>
    </form>
  );
}

export function Start() {
  const p = peer();
  const [mode, setMode] = useState<'choose' | 'create' | 'restore' | 'pair'>(
    p.synodIdentity && !p.holdsSynodKey ? 'pair' : p.holdsSynodKey && !p.synodState() ? 'restore' : 'choose',
  );
  const back = () => setMode('choose');
  if (freshWords.value) return <WordsGate />;
  if (membership.value === 'revoked') {
    return (
      <main id="main" class="start">
        <ScreenTitle>This device was removed</ScreenTitle>
        <p>Another device of your account revoked this one. Its earlier posts stay; it cannot post for the account any more.</p>
        <StartOver />
      </main>
    );
  }
  return (
    <main id="main" class="start">
      <img src="/icon.svg" alt="" width={56} height={56} class="start-logo" />
      <ScreenTitle>Welcome to Effigy</ScreenTitle>
      <p class="lede">
        Your identity is a key pair that lives in this browser. Your posts are signed by it and travel directly between your friends'
        devices.
      </p>
      {mode === 'choose' && (
        <div class="choices">
          <button type="button" class="big" onClick={() => setMode('create')}>
            Create a new identity
          </button>
          <button type="button" class="big secondary" onClick={() => setMode('restore')}>
            Restore from 24 words
          </button>
          <button type="button" class="big secondary" onClick={() => setMode('pair')}>
            Add this browser to an account I have
          </button>
        </div>
      )}
      {mode === 'create' && <Create onBack={back} />}
      {mode === 'restore' && <Restore onBack={back} />}
      {mode === 'pair' && <Pair onBack={back} />}
      <p class="hint net-hint">{anyRoomOnline.value ? 'Connected to the network.' : 'Not connected to a server yet.'}</p>
    </main>
  );
}

function WordsGate() {
  return (
    <main id="main" class="start">
      <ScreenTitle>Your identity is ready</ScreenTitle>
      <Words words={freshWords.value ?? ''} onDone={() => (freshWords.value = null)} />
    </main>
  );
}

/** Forget everything on this browser (the account lives on in its other devices). */
export function StartOver() {
  return (
    <details class="start-over">
      <summary>Start over on this browser</summary>
      <p>This deletes everything this browser holds: its keys, your copy of feeds, your inbox. Other devices keep their copies.</p>
      <button
        type="button"
        class="danger"
        onClick={async () => {
          peer().close();
          await peer().replica.store.clear();
          location.hash = '';
          location.reload();
        }}
      >
        Delete everything here
      </button>
    </details>
  );
}
