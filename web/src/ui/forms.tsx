/** What the forms share: an action's busy state and failure, the alert that says what went wrong, labelled fields, confirmations. */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { explain, notify } from '../engine.ts';

/**
 * A form's action: busy while it runs, its failure explained in words,
 * shown in the form (`error`) or, for buttons that have no room for it, as
 * a notice. `run`'s `explainFailure` adds what the person can do next.
 */
export function useAction({ notifyErrors = false }: { notifyErrors?: boolean } = {}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>, explainFailure: (why: string) => string = (why) => why): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      const text = explainFailure(explain(err));
      if (notifyErrors) notify(text, 'error');
      else setError(text);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/** What went wrong, read out at once by screen readers; nothing when there is nothing to say. */
export function Alert({ children, id }: { children?: ComponentChildren; id?: string }) {
  if (children === null || children === undefined || children === false || children === '') return null;
  return (
    <p class="error" id={id} role="alert">
      {children}
    </p>
  );
}

interface FieldProps {
  label: ComponentChildren;
  value: string;
  onValue?: (value: string) => void;
  /** A textarea of this many rows; without, a one-line input. */
  rows?: number;
  type?: 'text' | 'url';
  /** The label and the control alone, without the `field` block around them (compact forms). */
  bare?: boolean;
  /** The control's id, when something else refers to it; a fresh one otherwise. */
  id?: string;
  maxLength?: number;
  placeholder?: string;
  inputMode?: 'text' | 'numeric' | 'url';
  autoComplete?: string;
  autoCapitalize?: 'none' | 'off';
  spellcheck?: boolean;
  readOnly?: boolean;
  invalid?: boolean;
  describedBy?: string;
  onFocus?: (e: FocusEvent) => void;
  /** Under the control, inside the field: hints, buttons. */
  children?: ComponentChildren;
}

/** A labelled text input or textarea. */
export function Field({
  label,
  value,
  onValue,
  rows,
  type = 'text',
  bare,
  id: fixedId,
  invalid,
  describedBy,
  children,
  ...rest
}: FieldProps) {
  const freshId = useId();
  const id = fixedId ?? freshId;
  const common = {
    id,
    ...rest,
    value,
    'aria-invalid': invalid ? true : undefined,
    'aria-describedby': describedBy,
    onInput: (e: Event) => onValue?.((e.target as HTMLInputElement | HTMLTextAreaElement).value),
  };
  const inner = (
    <>
      <label for={id}>{label}</label>
      {/* Preact types attributes per input type; text and url take the same ones here. */}
      {rows === undefined ? <input type={type as 'text'} {...common} /> : <textarea rows={rows} {...common} />}
      {children}
    </>
  );
  return bare ? inner : <div class="field">{inner}</div>;
}

/** A destructive action behind an inline warning, rather than a modal. */
export function Confirm({
  label,
  warning,
  confirmLabel,
  onConfirm,
  class: cls = 'danger',
}: {
  label: string;
  warning: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => Promise<void> | void;
  class?: string;
}) {
  const [open, setOpen] = useState(false);
  const { busy, run } = useAction({ notifyErrors: true });
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open) cancel.current?.focus();
  }, [open]);
  if (!open) {
    return (
      <button type="button" class={`${cls} small`} onClick={() => setOpen(true)}>
        {label}
      </button>
    );
  }
  return (
    <div class="confirm" role="alertdialog" aria-label={label} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <div class="warning">{warning}</div>
      <div class="row">
        <button
          type="button"
          class="danger"
          disabled={busy}
          onClick={() =>
            run(async () => {
              await onConfirm();
              setOpen(false);
            })
          }
        >
          {confirmLabel}
        </button>
        <button type="button" class="secondary" ref={cancel} onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </div>
  );
}
