/** Small formatting helpers shared by the screens. */
import { parseIdentity, type Identity } from '../../../src/protocol/index.ts';

export const shortId = (id: string): string => (id.length > 14 ? `${id.slice(0, 7)}…${id.slice(-4)}` : id);

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function when(ms: number, now = Date.now()): string {
  const s = Math.round((ms - now) / 1000);
  if (Math.abs(s) < 45) return 'just now';
  if (Math.abs(s) < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (Math.abs(s) < 86_400) return rtf.format(Math.round(s / 3600), 'hour');
  if (Math.abs(s) < 7 * 86_400) return rtf.format(Math.round(s / 86_400), 'day');
  return dtf.format(ms);
}
export const exactTime = (ms: number): string => dtf.format(ms);

/** A stable, readable colour per identity (for the initials avatar). */
export function hueOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) % 360;
  return h;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * An identity typed, pasted or scanned: the bare "@…" text, or a link to an
 * identity page (…#/id/@…), which is what Effigy's QR codes hold.
 */
export function parseIdentityInput(input: string): Parsed<Identity> {
  let text = input.trim();
  if (!text) return { ok: false, message: 'Paste or scan an identity first.' };
  const at = text.indexOf('#/id/');
  if (at >= 0) text = text.slice(at + 5);
  try {
    text = decodeURIComponent(text);
  } catch {
    // keep it as typed
  }
  text = text.trim();
  const parsed = parseIdentity(text);
  if (parsed.ok) return { ok: true, value: parsed.value };
  return {
    ok: false,
    message: `That is not a valid identity. An identity is "@" followed by 43 letters, digits, "-" or "_" (${parsed.error.message}).`,
  };
}

/** The link a QR code carries for an identity: opens its page in Effigy. */
export const identityLink = (identity: string): string => `${location.origin}/#/id/${identity}`;
