/**
 * The 24 recovery words: hidden until the person asks to see them, with copy
 * and download, and (when just made) a check that they were written down:
 * three of them, asked back at random, as wallets do.
 */
import { signal } from '@preact/signals';
import { useId, useMemo, useState } from 'preact/hooks';
import { CopyButton } from './common.tsx';
import { Alert } from './forms.tsx';

/** The words just made, shown once after creating (the app proper waits until they are confirmed). */
export const freshWords = signal<string | null>(null);

function download(words: string): void {
  const text = `Effigy recovery words. Anyone who has them can be you: keep them private.\n\n${words
    .split(' ')
    .map((w, i) => `${String(i + 1).padStart(2, ' ')}. ${w}`)
    .join('\n')}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'effigy-recovery-words.txt';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Three distinct positions (1-based), in order. */
function pickThree(n: number): number[] {
  const picks = new Set<number>();
  const r = new Uint32Array(1);
  while (picks.size < 3) {
    crypto.getRandomValues(r);
    picks.add(((r[0] ?? 0) % n) + 1);
  }
  return [...picks].sort((a, b) => a - b);
}

function Confirm({ list, onBack, onDone }: { list: string[]; onBack: () => void; onDone: () => void }) {
  const positions = useMemo(() => pickThree(list.length), [list.length]);
  const [answers, setAnswers] = useState<string[]>(['', '', '']);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        const wrong = positions.filter((pos, i) => (answers[i] ?? '').trim().toLowerCase() !== list[pos - 1]);
        if (wrong.length === 0) return onDone();
        setError(`Word ${wrong.join(' and ')} ${wrong.length === 1 ? 'does' : 'do'} not match. Check your paper, or show the words again.`);
      }}
    >
      <h3>Check your words</h3>
      <p>Type these words from your paper, to be sure you can restore your account.</p>
      {positions.map((pos, i) => (
        <div class="field" key={pos}>
          <label for={`${id}-${pos}`}>Word {pos}</label>
          <input
            id={`${id}-${pos}`}
            type="text"
            autoComplete="off"
            autoCapitalize="none"
            spellcheck={false}
            value={answers[i]}
            aria-invalid={error ? true : undefined}
            onInput={(e) => setAnswers(answers.map((a, j) => (j === i ? (e.target as HTMLInputElement).value : a)))}
          />
        </div>
      ))}
      <Alert>{error}</Alert>
      <div class="row">
        <button type="submit">Check</button>
        <button type="button" class="secondary" onClick={onBack}>
          Show the words again
        </button>
      </div>
    </form>
  );
}

/** The words, hidden until revealed; `onDone` adds the check and a way on (right after creating). */
export function Words({ words, onDone }: { words: string; onDone?: () => void }) {
  const [shown, setShown] = useState(false);
  const [checking, setChecking] = useState(false);
  const list = words.split(' ');
  if (checking && onDone) return <Confirm list={list} onBack={() => setChecking(false)} onDone={onDone} />;
  return (
    <section class="card words" aria-labelledby="words-title">
      <h3 id="words-title">Your 24 recovery words</h3>
      <p>
        Write these words down, in order, on paper. They are the key to your account: with them you can restore it on a new browser if this
        one is lost. Anyone who has them can be you, so keep them private and make sure nobody is watching.
      </p>
      {shown ? (
        <>
          <ol class="word-grid" data-testid="mnemonic">
            {list.map((w, i) => (
              <li key={i}>
                <span class="n">{i + 1}</span> <span class="w">{w}</span>
              </li>
            ))}
          </ol>
          <div class="row">
            <CopyButton text={words} label="Copy words" />
            <button type="button" class="secondary" onClick={() => download(words)}>
              Download as a file
            </button>
            <button type="button" class="secondary" onClick={() => setShown(false)}>
              Hide
            </button>
          </div>
        </>
      ) : (
        <div class="word-cover">
          <button type="button" onClick={() => setShown(true)}>
            Show my 24 words
          </button>
        </div>
      )}
      {onDone && (
        <p>
          <button type="button" disabled={!shown} onClick={() => setChecking(true)}>
            I have written them down
          </button>
        </p>
      )}
    </section>
  );
}
