/**
 * An identity shown as an invite (QR code and link) and an identity typed or
 * scanned: apart from common.tsx because the QR code comes with them, and the
 * screens that use them (People, Me, a person, Messages) load after the first
 * paint.
 */
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { inviteLink } from '../lib/format.ts';
import { CopyButton, ShareButton } from './common.tsx';
import { Alert } from './forms.tsx';
import { QrCode, useScan } from './qr.tsx';

/** An identity's invite link, as a QR code and as text, with copy (and share where the system has it). */
export function IdentityCard({
  identity,
  title,
  note,
  qrSize = 232,
}: {
  identity: Identity;
  title: string;
  note?: ComponentChildren;
  qrSize?: number;
}) {
  const link = inviteLink(identity);
  return (
    <section class="card identity-card" aria-label={title}>
      <h3>{title}</h3>
      {note && <p class="hint">{note}</p>}
      <QrCode text={link} label={`QR code of ${title.toLowerCase()}`} size={qrSize} />
      <p>
        <code class="identity link" data-invite={link}>
          {link}
        </code>
      </p>
      <div class="row center">
        <CopyButton text={link} label="Copy link" />
        <ShareButton url={link} title={title} />
      </div>
      <details class="plain">
        <summary>Identity as text</summary>
        <code class="identity" data-identity={identity}>
          {identity}
        </code>
        <CopyButton text={identity} label="Copy identity" />
      </details>
    </section>
  );
}

/** A labelled text field for an identity: paste or scan; validated as typed. */
export function IdentityField({
  label,
  value,
  onValue,
  error,
}: {
  label: string;
  value: string;
  onValue: (v: string) => void;
  error?: string | null;
}) {
  const id = useId();
  const scan = useScan(onValue);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="row">
        <input
          id={id}
          type="text"
          inputMode="text"
          autoComplete="off"
          spellcheck={false}
          placeholder="@…"
          value={value}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-err` : undefined}
          onInput={(e) => onValue((e.target as HTMLInputElement).value)}
        />
        {scan.button}
      </div>
      <Alert id={`${id}-err`}>{error}</Alert>
      {scan.scanner}
    </div>
  );
}
