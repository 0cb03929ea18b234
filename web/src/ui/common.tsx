/** Pieces every screen uses: async data, names and avatars, images from blobs, identity checks, progress, titles. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { BlobRef, Identity } from '../../../src/protocol/index.ts';
import { explain, links, notify, peer, tick } from '../engine.ts';
import { bytes, hueOf, parseIdentityInput, shortId } from '../lib/format.ts';
import { cardProfiles } from '../conversations.ts';
import { MAX_INCOMING_BYTES, sniff } from '../lib/image-kinds.ts';

export interface Async<T> {
  value: T | undefined;
  error: string | null;
  loading: boolean;
}

/** Run `load` when `deps` change (and on every data tick); the latest answer wins. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], options: { onTick?: boolean } = {}): Async<T> {
  const [state, setState] = useState<Async<T>>({ value: undefined, error: null, loading: true });
  const seq = useRef(0);
  const t = options.onTick === false ? 0 : tick.value;
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (value) => mine === seq.current && setState({ value, error: null, loading: false }),
      (err: unknown) => mine === seq.current && setState((s) => ({ value: s.value, error: explain(err), loading: false })),
    );
  }, [...deps, t]);
  return state;
}

export type Profile = Awaited<ReturnType<ReturnType<typeof peer>['profileOf']>>;

/** Someone's profile: their account's own, or what a card they sent proved (strangers' accounts are not replicated). */
export function useProfile(identity: Identity): Profile | undefined {
  const own = useAsync(() => peer().profileOf(identity), [identity]).value;
  const card = cardProfiles.value.get(own?.synod ?? identity);
  if (own?.name || !card) return own;
  return {
    ...own,
    synod: card.synod,
    ...(card.name && { name: card.name }),
    ...(card.avatar && { avatar: card.avatar }),
    ...(card.about && { about: card.about }),
  };
}

export function displayName(identity: Identity, profile: Profile | undefined): string {
  return profile?.name?.trim() || shortId(identity);
}

export function Avatar({ identity, profile, size = 40 }: { identity: Identity; profile: Profile | undefined; size?: number }) {
  const name = displayName(identity, profile);
  if (profile?.avatar) {
    return <BlobImage blob={profile.avatar} alt="" class="avatar" style={{ width: `${size}px`, height: `${size}px` }} quiet />;
  }
  const letters = (profile?.name?.trim() || identity.slice(1, 3)).slice(0, 2).toUpperCase();
  return (
    <span
      class="avatar initials"
      aria-hidden="true"
      style={{ width: `${size}px`, height: `${size}px`, background: `hsl(${hueOf(profile?.synod ?? identity)} 45% 32%)` }}
      title={name}
    >
      {letters}
    </span>
  );
}

/** A person's name (their synod's profile), linking to their page. */
export function Who({ identity, avatar = false }: { identity: Identity; avatar?: boolean }) {
  const profile = useProfile(identity);
  return (
    <a class="who" href={`#/id/${identity}`} title={identity}>
      {avatar && <Avatar identity={identity} profile={profile} size={28} />}
      <span>{displayName(identity, profile)}</span>
    </a>
  );
}

// --- blobs ----------------------------------------------------------------

type Loaded = { url: string } | { refused: string };
const loaded = new Map<string, Promise<Loaded>>();

/** Fetch (store first, then peers), verify the format and that no metadata rides along. */
function loadImage(ref: BlobRef): Promise<Loaded> {
  const cached = loaded.get(ref.hash);
  if (cached) return cached;
  const p = (async (): Promise<Loaded> => {
    const p = peer();
    const own = await p.replica.store.blobSize(ref.hash);
    if (own === undefined && ref.size > MAX_INCOMING_BYTES) {
      return {
        refused: `Not downloaded: this image is ${bytes(ref.size)}, over the ${bytes(MAX_INCOMING_BYTES)} limit for images from others.`,
      };
    }
    const data = await p.getBlob(ref);
    const kind = sniff(data);
    if (!kind) return { refused: 'Not shown: this blob is not an image in a format Effigy shows.' };
    const found = await (await import('../lib/image.ts')).inspectImage(data);
    if (found.blocks.length > 0 || found.gps) {
      const what = found.gps ? 'its location (GPS) and other metadata' : `metadata (${found.blocks.join(', ')})`;
      return { refused: `Hidden: this image still carries ${what}. Images must be stripped before they are shared.` };
    }
    return { url: URL.createObjectURL(new Blob([data as Uint8Array<ArrayBuffer>], { type: kind })) };
  })();
  loaded.set(ref.hash, p);
  // A failure to fetch is retried later (a peer may come online); a refusal sticks.
  p.catch(() => loaded.delete(ref.hash));
  return p;
}

export function BlobImage({
  blob,
  alt,
  class: cls,
  style,
  quiet,
}: {
  blob: BlobRef;
  alt: string;
  class?: string;
  style?: Record<string, string>;
  quiet?: boolean;
}) {
  const state = useAsync(() => loadImage(blob), [blob.hash, links.value.length]);
  if (state.value && 'url' in state.value)
    return <img src={state.value.url} alt={alt} class={cls} style={style} loading="lazy" decoding="async" />;
  if (quiet) return <span class={`${cls ?? ''} placeholder`} style={style} aria-hidden="true" />;
  if (state.value && 'refused' in state.value) {
    return (
      <p class="image-refused" role="note">
        {state.value.refused}
      </p>
    );
  }
  return (
    <p class="image-pending" aria-live="polite">
      {state.error
        ? `Image not available yet (${bytes(blob.size)}): none of the connected peers has it. It will load when its author is online.`
        : `Loading image (${bytes(blob.size)})…`}
    </p>
  );
}

// --- small controls -----------------------------------------------------

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="secondary"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone(true);
          setTimeout(() => setDone(false), 2000);
        } catch {
          notify('Copying is not allowed here: select the text and copy it by hand.', 'info');
        }
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}

/** Share a link through the system's share sheet, where there is one. */
export function ShareButton({ url, title }: { url: string; title: string }) {
  const nav = navigator as Navigator & { share?: (d: { url: string; title: string }) => Promise<void> };
  if (!nav.share) return null;
  return (
    <button type="button" class="secondary" onClick={() => void nav.share?.({ url, title }).catch(() => undefined)}>
      Share link
    </button>
  );
}

export function checkIdentity(text: string): { identity: Identity | null; error: string | null } {
  const r = parseIdentityInput(text);
  return r.ok ? { identity: r.value, error: null } : { identity: null, error: text.trim() ? r.message : null };
}

export function Progress({ value, max, label }: { value: number; max: number | null; label: string }) {
  return (
    <label class="progress">
      <span>{label}</span>
      {max === null ? <progress aria-label={label} /> : <progress aria-label={label} value={value} max={Math.max(1, max)} />}
    </label>
  );
}

/** A screen's heading; focused when the screen opens, so screen readers announce it; it names the page (the tab's title). */
export function ScreenTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus({ preventScroll: true }), []);
  useEffect(() => {
    const text = ref.current?.textContent?.trim();
    document.title = text ? `${text} · Effigy` : 'Effigy';
  });
  return (
    <h2 ref={ref} tabIndex={-1} class="screen-title">
      {children}
    </h2>
  );
}
