/** Private notes: sealed for chosen people (followed, or by identity) and this account's own devices. */
import { useState } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { notify, peer } from '../engine.ts';
import { checkIdentity, displayName, IdentityField, ScreenTitle, useAsync, useProfile } from './common.tsx';
import { EntryList } from './entry.tsx';
import { Alert, Field, useAction } from './forms.tsx';
import { following } from './people.tsx';

/** People one can write privately to: followed accounts and devices. */
export function Private() {
  const p = peer();
  const people = useAsync(following, []);
  const notes = useAsync(
    async () => (await p.timeline(500)).filter((e) => e.body.payload.type === 'private_note' && p.readPrivate(e) !== null),
    [],
  );
  const [chosen, setChosen] = useState<Set<Identity>>(new Set());
  const [extra, setExtra] = useState('');
  const [text, setText] = useState('');
  const { busy, error, setError, run } = useAction();
  const extraCheck = checkIdentity(extra);
  const toggle = (i: Identity) => {
    const next = new Set(chosen);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    setChosen(next);
  };
  return (
    <>
      <ScreenTitle>Private notes</ScreenTitle>
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const to = new Set(chosen);
          if (extra.trim()) {
            if (!extraCheck.identity) return setError(extraCheck.error);
            to.add(extraCheck.identity);
          }
          if (to.size === 0) return setError('Choose at least one person to write to.');
          if (!text.trim()) return setError('Write something first.');
          await run(async () => {
            await p.sendPrivate(text.trim(), [...to]);
            setText('');
            setChosen(new Set());
            setExtra('');
            notify('Private note posted. Only the people you chose (and your own devices) can read it.');
          });
        }}
      >
        <p class="hint">
          Sealed in this browser for the chosen people's devices and yours. Everyone can see that a note exists, not what it says or who it
          is for.
        </p>
        <fieldset>
          <legend>To</legend>
          {people.value?.length ? (
            people.value.map((i) => <Recipient key={i} identity={i} checked={chosen.has(i)} onToggle={() => toggle(i)} />)
          ) : (
            <p class="hint">Follow people to pick them here, or paste an identity below.</p>
          )}
        </fieldset>
        <IdentityField label="Someone else (optional)" value={extra} onValue={setExtra} error={extra ? extraCheck.error : null} />
        <Field label="Note" rows={3} maxLength={10_000} value={text} onValue={setText} />
        <Alert>{error}</Alert>
        <button type="submit" disabled={busy}>
          Send private note
        </button>
      </form>
      <h3>Private notes you can read</h3>
      <EntryList entries={notes.value} empty="No private notes yet." />
    </>
  );
}

function Recipient({ identity, checked, onToggle }: { identity: Identity; checked: boolean; onToggle: () => void }) {
  const profile = useProfile(identity);
  return (
    <label class="check">
      <input type="checkbox" checked={checked} onChange={onToggle} /> {displayName(identity, profile)}
    </label>
  );
}
