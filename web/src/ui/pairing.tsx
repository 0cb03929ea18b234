/**
 * Linking a device, as Signal does: one device shows a QR code (and its 12
 * digits), the other scans it (or types the digits). Either device can show:
 * the new one (usual), or the one holding the account key.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatPairingCode, newPairingCode, parsePairingCode } from '../../../src/protocol/index.ts';
import { explain, notify, peer, type PairingRun } from '../engine.ts';
import { Alert, Field } from './forms.tsx';
import { QrCode, useScan } from './qr.tsx';

type Role = 'holder' | 'joiner';
type Phase =
  { step: 'choose' } | { step: 'show'; code: string } | { step: 'enter' } | { step: 'wait'; code: string } | { step: 'done'; text: string };

/** The origin a scanned link names (both devices meet on that server), else this one. */
function serverOf(scanned: string): string {
  const m = /^(https?:\/\/[^/#?]+)/i.exec(scanned.trim());
  return m?.[1] ?? location.origin;
}

export function PairingPanel({
  role,
  initialCode = '',
  deviceName,
  onBack,
}: {
  role: Role;
  initialCode?: string;
  deviceName?: string;
  onBack?: () => void;
}) {
  const [phase, setPhase] = useState<Phase>(
    initialCode ? { step: 'wait', code: initialCode } : role === 'joiner' ? { step: 'show', code: newPairingCode() } : { step: 'choose' },
  );
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const run = useRef<PairingRun<unknown> | null>(null);

  const start = (code: string, server: string) => {
    run.current?.cancel();
    setError(null);
    const p = peer();
    const r = role === 'holder' ? p.holdPairing(code, server) : p.joinPairing(code, server, deviceName?.trim() || undefined);
    run.current = r;
    r.done.then(
      (result) => {
        if (run.current !== r) return;
        if (role === 'holder') {
          const { name } = result as { name?: string };
          notify(`Device added${name ? `: ${name}` : ''}. It syncs your account now.`);
          setPhase({ step: 'done', text: `${name ?? 'The new device'} is now linked to your account.` });
        } else {
          setPhase({ step: 'done', text: 'Accepted. Getting your account from your other device…' });
          // Once a member, the app opens at Home rather than at the pairing link it came by.
          if (location.hash.startsWith('#/pair/')) location.hash = '#/';
        }
      },
      (err: Error) => {
        if (run.current !== r || /cancelled/.test(err.message)) return;
        setError(explain(err));
        setPhase({ step: 'choose' });
      },
    );
  };

  useEffect(() => {
    // The new device shows its code at once, as Signal's linked devices do.
    if (phase.step === 'show') start(phase.code, location.origin);
    if (initialCode) {
      const parsed = parsePairingCode(initialCode);
      if (parsed.ok) start(parsed.value, location.origin);
      else {
        setError(`${explain(parsed.error.message)}.`);
        setPhase({ step: 'choose' });
      }
    }
    return () => run.current?.cancel();
  }, []);

  const scan = useScan((text) => {
    const parsed = parsePairingCode(text);
    if (!parsed.ok) return setError('That QR code is not an Effigy pairing code.');
    setPhase({ step: 'wait', code: parsed.value });
    start(parsed.value, serverOf(text));
  }, 'Scan the QR code');

  const show = () => {
    const code = newPairingCode();
    setPhase({ step: 'show', code });
    start(code, location.origin);
  };
  const cancel = () => {
    run.current?.cancel();
    run.current = null;
    setPhase({ step: 'choose' });
  };
  const other = role === 'holder' ? 'the new device' : 'your other device';

  if (phase.step === 'show') {
    const link = `${location.origin}/#/pair/${phase.code}`;
    return (
      <section class="card pairing" aria-label="Pairing code">
        <p>
          {role === 'holder' ? (
            <>
              On the new device, open <strong>I have an account → Link this device → Scan or type a code instead</strong>, then scan this
              code or type its 12 digits.
            </>
          ) : (
            <>
              On your other device, open <strong>Me → Devices → Link a new device</strong> and scan this code, or type its 12 digits.
            </>
          )}
        </p>
        <QrCode text={link} label="Pairing QR code" size={240} />
        <p class="pair-code" data-testid="pair-code" data-code={phase.code}>
          {formatPairingCode(phase.code)}
        </p>
        <p role="status" aria-live="polite" class="hint">
          Waiting for {other}… The code works for 10 minutes.
        </p>
        <div class="row">
          <button type="button" class="secondary" onClick={cancel}>
            {role === 'joiner' ? 'Scan or type a code instead' : 'Cancel'}
          </button>
          {onBack && role === 'joiner' && (
            <button type="button" class="secondary" onClick={onBack}>
              Back
            </button>
          )}
        </div>
      </section>
    );
  }
  if (phase.step === 'wait' || phase.step === 'done') {
    return (
      <section class="card pairing" aria-label="Pairing">
        <p role="status" aria-live="polite">
          {phase.step === 'done' ? phase.text : `Connecting with code ${formatPairingCode(phase.code)}…`}
        </p>
        {phase.step === 'wait' && (
          <button type="button" class="secondary" onClick={cancel}>
            Cancel
          </button>
        )}
        {phase.step === 'done' && role === 'holder' && (
          <button type="button" class="secondary" onClick={() => setPhase({ step: 'choose' })}>
            Link another device
          </button>
        )}
      </section>
    );
  }
  return (
    <section class="card pairing" aria-label={role === 'holder' ? 'Link a new device' : 'Link to your account'}>
      {role === 'holder' && (
        <p class="hint">
          On the new device open Effigy and choose <strong>I have an account → Link this device</strong>: it shows a QR code. Scan it here,
          or type its 12 digits.
        </p>
      )}
      <div class="row">
        {scan.button}
        <button type="button" class="secondary" onClick={show}>
          {role === 'joiner' ? 'Show my code' : 'Show a code instead'}
        </button>
      </div>
      {scan.scanner}
      <form
        class="enter-code"
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = parsePairingCode(typed);
          if (!parsed.ok) return setError(`${explain(parsed.error.message)}, as ${other} shows it.`);
          setPhase({ step: 'wait', code: parsed.value });
          start(parsed.value, location.origin);
        }}
      >
        <Field
          label={`Or type the 12-digit code ${other} shows`}
          value={typed}
          onValue={setTyped}
          inputMode="numeric"
          autoComplete="off"
          placeholder="1234 5678 9012"
        />
        <div class="row">
          <button type="submit">Connect</button>
          {onBack && (
            <button type="button" class="secondary" onClick={onBack}>
              Back
            </button>
          )}
        </div>
      </form>
      <Alert>{error}</Alert>
    </section>
  );
}
