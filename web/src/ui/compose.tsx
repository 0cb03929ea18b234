/** Writing: a note, a photo or an album (metadata removed in this browser before anything is stored). */
import { useId, useState } from 'preact/hooks';
import type { BlobRef, DirectoryItem } from '../../../src/protocol/index.ts';
import { anyRoomOnline, explain, notify, peer } from '../engine.ts';
import { bytes } from '../lib/format.ts';
import { ImageError, removedText, type PreparedImage } from '../lib/image-kinds.ts';
import { go } from '../router.ts';
import { ScreenTitle } from './common.tsx';
import { Alert, Field, useAction } from './forms.tsx';

function publishedNote(): string {
  return anyRoomOnline.value ? 'Posted.' : 'Saved. It will be published when the network returns.';
}

/** A public note; `compact` on Home. After posting from Compose, Home shows it at the top, clear of the notice. */
export function NoteForm({ compact = false }: { compact?: boolean }) {
  const [text, setText] = useState('');
  const { busy, error, setError, run } = useAction();
  return (
    <form
      class={`card note-form ${compact ? 'compact' : ''}`}
      onSubmit={async (e) => {
        e.preventDefault();
        const value = text.trim();
        if (!value) return setError('Write something first.');
        await run(async () => {
          await peer().postNote(value);
          setText('');
          if (!compact) go('home');
          notify(publishedNote());
        });
      }}
    >
      <Field
        bare
        label={compact ? 'Write a public note' : 'Public note'}
        rows={compact ? 2 : 5}
        placeholder={compact ? 'What’s happening? Use #tags and @identities.' : undefined}
        maxLength={10_000}
        value={text}
        onValue={setText}
      />
      <Alert>{error}</Alert>
      <button type="submit" disabled={busy}>
        Post note
      </button>
    </form>
  );
}

interface Picked {
  name: string;
  image?: PreparedImage;
  url?: string;
  error?: string;
}

function PhotoForm() {
  const fileId = useId();
  const [picked, setPicked] = useState<Picked[]>([]);
  const [working, setWorking] = useState(false);
  const [caption, setCaption] = useState('');
  const [alt, setAlt] = useState('');
  const { busy, error: formError, setError: setFormError, run } = useAction();
  const good = picked.filter((p) => p.image);
  const album = good.length > 1;

  const pick = async (files: FileList | null) => {
    picked.forEach((p) => p.url && URL.revokeObjectURL(p.url));
    setFormError(null);
    if (!files || files.length === 0) return setPicked([]);
    if (files.length > 64) return setFormError('Pick at most 64 images for one album.');
    setWorking(true);
    const out: Picked[] = [];
    for (const file of Array.from(files)) {
      try {
        const image = await (await import('../lib/image.ts')).prepareImage(file);
        out.push({
          name: file.name,
          image,
          url: URL.createObjectURL(new Blob([image.bytes as Uint8Array<ArrayBuffer>], { type: image.mime })),
        });
      } catch (err) {
        out.push({ name: file.name, error: err instanceof ImageError ? err.message : `“${file.name}” could not be read: ${explain(err)}` });
      }
    }
    setPicked(out);
    setWorking(false);
  };

  const post = async (e: Event) => {
    e.preventDefault();
    if (good.length === 0) return setFormError('Pick an image first.');
    await run(async () => {
      const p = peer();
      const refs: BlobRef[] = [];
      for (const g of good) refs.push(await p.addBlob(g.image!.bytes));
      if (!album) {
        const image = good[0]!.image!;
        await p.publish({
          type: 'image',
          blob: refs[0]!,
          mime: image.mime,
          width: image.width,
          height: image.height,
          ...(alt.trim() && { alt: alt.trim() }),
          ...(caption.trim() && { caption: caption.trim() }),
        });
      } else {
        const used = new Set<string>();
        const items: DirectoryItem[] = good.map((g, i) => {
          const base = g.name.replace(/[/\\\u0000]/g, '_').replace(/\.[^.]*$/, '') || 'image';
          let name = `${String(i + 1).padStart(2, '0')}-${base}.jpg`.slice(0, 250);
          while (used.has(name)) name = `${i + 1}-${name}`;
          used.add(name);
          return { name, kind: 'file', blob: refs[i]!, mime: 'image/jpeg' };
        });
        const root = await p.addCollection(items);
        await p.publish({ type: 'collection', root, ...(caption.trim() && { name: caption.trim().slice(0, 64) }) });
      }
      go('home');
      notify(publishedNote());
      picked.forEach((p) => p.url && URL.revokeObjectURL(p.url));
      setPicked([]);
      setCaption('');
      setAlt('');
      (document.getElementById(fileId) as HTMLInputElement | null)?.form?.reset();
    });
  };

  return (
    <form class="card photo-form" onSubmit={post}>
      <h3>Photos</h3>
      <p class="hint">
        Location and other metadata (EXIF, XMP) are removed in this browser before anything is stored or shared. Pick several for an album.
      </p>
      <div class="field">
        <label for={fileId}>Choose images</label>
        <input id={fileId} type="file" accept="image/*" multiple onChange={(e) => void pick((e.target as HTMLInputElement).files)} />
      </div>
      {working && (
        <p role="status" aria-live="polite">
          Removing metadata…
        </p>
      )}
      {picked.length > 0 && (
        <ul class="previews" aria-label="Images to post">
          {picked.map((p) => (
            <li key={p.name}>
              {p.image ? (
                <>
                  <img src={p.url} alt={`Preview of ${p.name}`} />
                  <p class="stripped" data-testid="stripped">
                    {removedText(p.image.removed)} {bytes(p.image.originalSize)} → {bytes(p.image.bytes.length)}
                  </p>
                </>
              ) : (
                <Alert>{p.error}</Alert>
              )}
            </li>
          ))}
        </ul>
      )}
      {good.length > 0 && (
        <>
          <Field label={album ? 'Album name' : 'Caption'} maxLength={album ? 64 : 10_000} value={caption} onValue={setCaption} />
          {!album && <Field label="Description for people who cannot see it (alt text)" maxLength={1000} value={alt} onValue={setAlt} />}
        </>
      )}
      <Alert>{formError}</Alert>
      <button type="submit" disabled={busy || working || good.length === 0}>
        {album ? `Post album of ${good.length}` : 'Post image'}
      </button>
    </form>
  );
}

export function Compose() {
  return (
    <>
      <ScreenTitle>Compose</ScreenTitle>
      <NoteForm />
      <PhotoForm />
      <p class="hint">
        For words only some people can read, write them a <a href="#/messages">message</a>.
      </p>
    </>
  );
}
