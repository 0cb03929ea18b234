/** First visit: create an identity and account, link this browser to an account, or restore from the 24 words. */
import type { ComponentChildren } from 'preact';
import { useId, useState } from 'preact/hooks';
import { mnemonicToSeed } from '../../../src/protocol/index.ts';
import { anyRoomOnline, defaultServers, membership, notify, peer, recoveryTick, tick } from '../engine.ts';
import { guessDeviceName, shortId } from '../lib/format.ts';
import { route } from '../router.ts';
import { ScreenTitle, useAsync } from './common.tsx';
import { Alert, Field, useAction } from './forms.tsx';
import { ACCOUNT_TEXT } from './me.tsx';
import { PairingPanel } from './pairing.tsx';
import { RecoverThroughFriends } from './recover.tsx';
import { freshWords, Words } from './words.tsx';

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
  const [device, setDevice] = useState(guessDeviceName());
  const { busy, error, run } = useAction();
  return (
    <form
      class="card"
      onSubmit={async (e) => {
        e.preventDefault();
        await run(async () => {
          const trimmed = name.trim();
          const { mnemonic } = await peer().createSynod(trimmed ? { name: trimmed } : {}, defaultServers(), device.trim() || undefined);
          freshWords.value = mnemonic;
        });
      }}
    >
      <h3>Create your account</h3>
      <p class="hint">{ACCOUNT_TEXT}</p>
      <Field label="Your name (optional)" maxLength={64} autoComplete="nickname" value={name} onValue={setName} />
      <Field label="Name for this device" maxLength={64} value={device} onValue={setDevice}>
        <p class="hint">So you can tell your devices apart later, e.g. “Phone” or “Work laptop”.</p>
      </Field>
      <Alert>{error}</Alert>
      <Buttons onBack={onBack}>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create my account'}
        </button>
      </Buttons>
    </form>
  );
}

function Restore({ onBack }: { onBack: () => void }) {
  const id = useId();
  const [words, setWords] = useState('');
  const [device, setDevice] = useState(guessDeviceName());
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
            await peer().restoreSynod(words, 25_000, device.trim() || undefined);
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
      <p>This browser joins your account as a new device. Your posts come from your other devices, so keep one of them open and online.</p>
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
      <Field label="Name for this device" maxLength={64} value={device} onValue={setDevice} />
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

function Link({ onBack, code }: { onBack: () => void; code: string }) {
  const [device, setDevice] = useState(guessDeviceName());
  const [ready, setReady] = useState(!!code);
  if (!ready) {
    return (
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          setReady(true);
        }}
      >
        <h3>Link this browser to your account</h3>
        <p>Your other device scans a code this browser shows, like linking a computer to Signal. Nothing to type.</p>
        <Field label="Name for this device" maxLength={64} value={device} onValue={setDevice} />
        <Buttons onBack={onBack}>
          <button type="submit">Next</button>
        </Buttons>
      </form>
    );
  }
  return <PairingPanel role="joiner" initialCode={code} deviceName={device} onBack={onBack} />;
}

/** A pairing accepted earlier whose account has not arrived yet. */
function Arriving() {
  return (
    <section class="card">
      <h3>Almost there</h3>
      <p role="status" aria-live="polite">
        Your other device accepted this one. Waiting for your account to arrive from it
        {anyRoomOnline.value ? '…' : ': not connected to a server yet.'} Keep it open and online.
      </p>
      <StartOver />
    </section>
  );
}

export function Start() {
  const p = peer();
  const { name: routeName, arg } = route.value;
  const pairCode = routeName === 'pair' ? arg : '';
  type Mode = 'choose' | 'create' | 'have' | 'link' | 'restore' | 'recover';
  const [chosenMode, setMode] = useState<Mode>(pairCode ? 'link' : p.holdsSynodKey && !p.synodState() ? 'restore' : 'choose');
  // A recovery through friends under way takes the screen until it ends.
  const asking = useAsync(() => p.recovery.pending(), [recoveryTick.value], { onTick: false }).value;
  const mode: Mode = asking ? 'recover' : chosenMode;
  const back = () => setMode('choose');
  if (freshWords.value) return <WordsGate />;
  if (membership.value === 'revoked') {
    return (
      <main id="main" class="start">
        <ScreenTitle>This device was removed</ScreenTitle>
        <p>Another device of your account removed this one. Its earlier posts stay; it cannot post for the account any more.</p>
        <StartOver />
      </main>
    );
  }
  const arriving = p.synodIdentity && !p.holdsSynodKey && mode === 'choose';
  return (
    <main id="main" class="start">
      <img src="/icon.svg" alt="" width={56} height={56} class="start-logo" />
      <ScreenTitle>Welcome to Effigy</ScreenTitle>
      <p class="lede">Your posts are signed by keys that live on your devices, and travel directly between your friends’ devices.</p>
      {routeName === 'add' && (
        <p class="banner" role="note">
          You were invited to follow someone ({shortId(arg)}). Create your account first, or link this browser to one you have; their
          profile opens next.
        </p>
      )}
      {arriving && <Arriving />}
      {mode === 'choose' && !arriving && (
        <div class="choices">
          <button type="button" class="big" onClick={() => setMode('create')}>
            Create a new account
          </button>
          <button type="button" class="big secondary" onClick={() => setMode('have')}>
            I have an account
          </button>
        </div>
      )}
      {mode === 'have' && (
        <div class="choices">
          <button type="button" class="big" onClick={() => setMode('link')}>
            Link this device
          </button>
          <p class="hint">With your phone or another device where you use Effigy: it scans a code shown here.</p>
          <button type="button" class="big secondary" onClick={() => setMode('restore')}>
            Restore from 24 words
          </button>
          <p class="hint">If you have no other device at hand, with the words you wrote down.</p>
          <button type="button" class="big secondary" onClick={() => setMode('recover')}>
            Recover through friends
          </button>
          <p class="hint">If every device is lost and the words too: the friends you chose give your account back together.</p>
          <button type="button" class="secondary" onClick={back}>
            Back
          </button>
        </div>
      )}
      {mode === 'create' && <Create onBack={back} />}
      {mode === 'restore' && <Restore onBack={() => setMode('have')} />}
      {mode === 'link' && <Link onBack={() => setMode('have')} code={pairCode} />}
      {mode === 'recover' && <RecoverThroughFriends onBack={() => setMode('have')} />}
      <p class="hint net-hint">{anyRoomOnline.value ? 'Connected to the network.' : 'Not connected to a server yet.'}</p>
    </main>
  );
}

function WordsGate() {
  return (
    <main id="main" class="start">
      <ScreenTitle>Your account is ready</ScreenTitle>
      <Words words={freshWords.value ?? ''} onDone={() => (freshWords.value = null)} />
    </main>
  );
}

/** Me → Recovery words: the same words, hidden until revealed. */
export function RecoveryWords() {
  const p = peer();
  // The word list loads lazily (it is not in the initial bundle), so the words arrive a moment later.
  const words = useAsync(() => p.mnemonic(), [], { onTick: false });
  return (
    <>
      <ScreenTitle>Recovery words</ScreenTitle>
      {p.holdsSynodKey ? (
        words.value ? (
          <Words words={words.value} />
        ) : (
          <p aria-busy="true">Loading your words…</p>
        )
      ) : (
        <p>This device was linked to your account and does not hold its words: they are on the device that created the account.</p>
      )}
    </>
  );
}

/** Forget everything on this browser (the account lives on in its other devices). */
export function StartOver() {
  return (
    <details class="start-over">
      <summary>Start over on this browser</summary>
      <p>This deletes everything this browser holds: its keys, your copy of feeds, your messages. Other devices keep their copies.</p>
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
