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
 * identity (…#/add/@… as invite links and QR codes hold it, or …#/id/@…).
 */
export function parseIdentityInput(input: string): Parsed<Identity> {
  let text = input.trim();
  if (!text) return { ok: false, message: 'Paste or scan an identity first.' };
  const link = /#\/(?:add|id)\/([^?#\s]*)/.exec(text);
  if (link) text = link[1] ?? '';
  try {
    text = decodeURIComponent(text);
  } catch {
    // keep it as typed
  }
  text = text.trim();
  const parsed = parseIdentity(text);
  if (parsed.ok) return { ok: true, value: parsed.value };
  if (parsed.error.code === 'bad_key')
    return { ok: false, message: 'That looks like an identity, but it is not a usable key. Check that it was copied whole.' };
  return {
    ok: false,
    message: `That is not a valid identity: it is "@" followed by 43 letters, digits, "-" or "_" (this has ${text.length} characters).`,
  };
}

/** The invite link for an identity: opens Effigy at that person, ready to follow. QR codes hold it too. */
export const inviteLink = (identity: string): string => `${location.origin}/#/add/${identity}`;

/** A first name for this device, from what the browser says it is ("Chrome on Android"). */
export function guessDeviceName(ua: string = typeof navigator === 'undefined' ? '' : navigator.userAgent): string {
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPod/.test(ua)
      ? 'iPhone'
      : /iPad/.test(ua)
        ? 'iPad'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'Mac'
          : /Windows/.test(ua)
            ? 'Windows'
            : /CrOS/.test(ua)
              ? 'Chromebook'
              : /Linux/.test(ua)
                ? 'Linux'
                : '';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrome\/|Chromium\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  return os ? `${browser} on ${os}` : browser;
}

/** A server address typed by a person, as an origin: refuses what is not a host name (spaces, "%"), instead of dialing it. */
export function parseServerAddress(input: string): Parsed<URL> {
  let text = input.trim();
  if (!text) return { ok: false, message: 'Type a server address first.' };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `https://${text}`;
  const host = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1] ?? '';
  const hostname = host.replace(/:\d+$/, '');
  const valid =
    /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(hostname) ||
    /^\[[0-9a-f:.]+\]$/i.test(hostname);
  if (!valid) return { ok: false, message: `"${input.trim()}" is not a server address: a server is a name like effigy.example.org.` };
  try {
    return { ok: true, value: new URL(text) };
  } catch {
    return { ok: false, message: `"${input.trim()}" is not a web address.` };
  }
}
