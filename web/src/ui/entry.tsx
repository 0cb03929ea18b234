/** One entry as people see it: its body, its tags, its comments under it with a count; comment, tag, delete (behind a confirm). */
import { useState } from 'preact/hooks';
import { parseDirectory, type BlobRef, type Entry, type Hash, type Identity } from '../../../src/protocol/index.ts';
import { notify, peer, published } from '../engine.ts';
import { bytes, exactTime, when } from '../lib/format.ts';
import { BlobImage, useAsync, Who } from './common.tsx';
import { Alert, Confirm, Field, useAction } from './forms.tsx';
import { RichText, tagHref } from './richtext.tsx';

const DIRECTORY_LIMIT = 512 * 1024;

/** What others said about each entry: comments (oldest first) and tags. */
export interface Responses {
  comments: Entry[];
  tags: string[];
}

export function responsesOf(entries: readonly Entry[]): Map<Hash, Responses> {
  const out = new Map<Hash, Responses>();
  const of = (h: Hash) => out.get(h) ?? (out.set(h, { comments: [], tags: [] }).get(h) as Responses);
  for (const e of [...entries].sort((a, b) => a.body.comparable - b.body.comparable)) {
    const p = e.body.payload;
    if (p.type === 'comment') of(p.target.entry).comments.push(e);
    if (p.type === 'tag') {
      const r = of(p.target.entry);
      const tag = p.tag.toLowerCase();
      if (!r.tags.includes(tag)) r.tags.push(tag);
    }
  }
  return out;
}

function Collection({ root, name }: { root: BlobRef; name?: string }) {
  const dir = useAsync(async () => {
    if (root.size > DIRECTORY_LIMIT) throw new Error(`album index is ${bytes(root.size)}: too big to open`);
    const parsed = parseDirectory(await peer().getBlob(root), root.hash);
    if (!parsed.ok) throw new Error(`album index is damaged: ${parsed.error.message}`);
    return parsed.value.items;
  }, [root.hash]);
  return (
    <figure class="album">
      {name && <figcaption>{name}</figcaption>}
      {dir.value ? (
        <ul class="album-grid">
          {dir.value.map((item) => (
            <li key={item.name}>
              <BlobImage blob={item.blob} alt={item.name} />
            </li>
          ))}
        </ul>
      ) : (
        <p class="image-pending">{dir.error ? `Album not available yet: ${dir.error}` : 'Loading album…'}</p>
      )}
    </figure>
  );
}

/** What an entry says, by payload type. */
export function Body({ entry }: { entry: Entry }) {
  const p = entry.body.payload;
  switch (p.type) {
    case 'public_note':
      return <RichText text={p.text} />;
    case 'image':
      return (
        <figure class="photo">
          <BlobImage blob={p.blob} alt={p.alt ?? p.caption ?? 'Image'} />
          {p.caption && <RichText text={p.caption} class="caption" />}
        </figure>
      );
    case 'collection':
      return <Collection root={p.root} {...(p.name !== undefined && { name: p.name })} />;
    case 'comment':
      return (
        <>
          <p class="meta-line">
            Comment on <a href={`#/entry/${p.target.entry}`}>a post</a> by <Who identity={p.target.identity} />
          </p>
          <RichText text={p.text} />
        </>
      );
    case 'tag':
      return (
        <p class="meta-line">
          Tagged <a href={`#/entry/${p.target.entry}`}>a post</a> by <Who identity={p.target.identity} />{' '}
          <a class="hashtag" href={tagHref(p.tag)}>
            #{p.tag}
          </a>
        </p>
      );
    case 'follow':
      return (
        <p class="meta-line">
          Followed <Who identity={p.identity} />
        </p>
      );
    case 'block':
      return (
        <p class="meta-line">
          Blocked <Who identity={p.identity} />
          {p.reason ? `: ${p.reason}` : ''}
        </p>
      );
    case 'private_note':
      return <p class="meta-line">A private message (see Messages).</p>;
    case 'mute': {
      const text = peer().readPrivate(entry);
      try {
        const inner = text === null ? null : (JSON.parse(text) as { identity?: Identity });
        return inner?.identity ? (
          <p class="meta-line">
            Muted <Who identity={inner.identity} /> (only you can see this)
          </p>
        ) : null;
      } catch {
        return null;
      }
    }
    case 'identification':
      return <p class="meta-line">Updated the profile{p.name ? `: ${p.name}` : ''}</p>;
    case 'synod':
      return (
        <p class="meta-line">
          {p.op === 'add_device' ? (
            <>Linked a device{p.name ? ` (${p.name})` : ''}</>
          ) : p.op === 'revoke_device' ? (
            'Removed a device'
          ) : p.op === 'servers' ? (
            'Updated the servers'
          ) : (
            'Closed the account'
          )}
        </p>
      );
  }
}

const CONTENT = new Set(['public_note', 'image', 'collection', 'comment']);

/** Posts others can answer; the rest (follows, profile updates) are shown as a compact line. */
export const isContent = (e: Entry): boolean => CONTENT.has(e.body.payload.type);

function Respond({ entry, mode, onDone }: { entry: Entry; mode: 'comment' | 'tag'; onDone: () => void }) {
  const [text, setText] = useState('');
  const { busy, error, setError, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const value = text.trim();
    if (!value) return setError(mode === 'comment' ? 'Write something first.' : 'Type a tag first.');
    if (mode === 'tag' && (/\s/.test(value) || value.length > 64))
      return setError('A tag is one word of at most 64 characters, with no spaces.');
    await run(async () => {
      const ref = { entry: entry.hash, identity: entry.body.identity };
      if (mode === 'comment') await peer().comment(ref, value);
      else await peer().tag(ref, value.replace(/^#/, ''));
      notify(mode === 'comment' ? 'Comment posted.' : 'Tag added.');
      setText('');
      if (mode === 'tag') onDone();
    });
  };
  return (
    <form class="respond" onSubmit={submit}>
      {mode === 'comment' ? (
        <Field bare label="Your comment" rows={2} maxLength={10_000} value={text} onValue={setText} />
      ) : (
        <Field bare label="Tag (one word)" maxLength={65} value={text} onValue={setText} />
      )}
      <Alert>{error}</Alert>
      <div class="row">
        <button type="submit" disabled={busy}>
          {mode === 'comment' ? 'Post comment' : 'Add tag'}
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          {mode === 'comment' ? 'Close' : 'Cancel'}
        </button>
      </div>
    </form>
  );
}

async function laterEntries(hash: Hash): Promise<number> {
  const feed = await peer().feed(peer().identity, 10_000);
  const at = feed.findIndex((e) => e.hash === hash);
  return at < 0 ? 0 : at;
}

function DeleteEntry({ entry }: { entry: Entry }) {
  const later = useAsync(() => laterEntries(entry.hash), [entry.hash]).value ?? 0;
  return (
    <Confirm
      label="Delete"
      class="quiet"
      confirmLabel="Delete and rewrite"
      warning={
        <>
          <p>
            <strong>Deleting rewrites your feed.</strong>{' '}
            {later > 0
              ? `The ${later} ${later === 1 ? 'entry' : 'entries'} you posted from this device after this one will be signed again and get new names.`
              : 'Your latest entry before this one is signed again so the change outranks it.'}
          </p>
          <p>
            Comments, tags and links that point at rewritten entries will no longer find them, and peers that already have this entry may
            keep a copy.
          </p>
        </>
      }
      onConfirm={async () => {
        await peer().deleteEntries([entry.hash]);
        notify('Deleted. Later entries were rewritten.');
      }}
    />
  );
}

export function EntryCard({
  entry,
  responses,
  compact = false,
  open = false,
}: {
  entry: Entry;
  responses?: Responses | undefined;
  compact?: boolean;
  open?: boolean;
}) {
  const [mode, setMode] = useState<'comment' | 'tag' | null>(open ? 'comment' : null);
  const p = peer();
  const mine = entry.body.identity === p.identity;
  const type = entry.body.payload.type;
  const content = isContent(entry);
  const pending = mine && entry.body.comparable > published.value;
  const comments = responses?.comments ?? [];
  const tags = responses?.tags ?? [];
  return (
    <article
      class={`entry ${content ? '' : 'minor'}`}
      data-type={type}
      data-hash={entry.hash}
      data-pending={pending ? 'true' : undefined}
      aria-label={`${type.replace('_', ' ')} ${when(entry.body.comparable)}`}
    >
      <header>
        <Who identity={entry.body.identity} avatar={content} />
        {pending && (
          <span class="badge pending" title="Saved on this device; published as soon as a server is reachable.">
            Waiting to publish
          </span>
        )}
        <a class="time" href={`#/entry/${entry.hash}`} title={exactTime(entry.body.comparable)}>
          <time dateTime={new Date(entry.body.comparable).toISOString()}>{when(entry.body.comparable)}</time>
        </a>
      </header>
      <Body entry={entry} />
      {tags.length > 0 && (
        <ul class="chips" aria-label="Tags">
          {tags.map((t) => (
            <li key={t}>
              <a class="chip" href={tagHref(t)}>
                #{t}
              </a>
            </li>
          ))}
        </ul>
      )}
      {content && !compact && (
        <div class="actions">
          {type !== 'comment' && (
            <button
              type="button"
              class="secondary small"
              aria-expanded={mode === 'comment'}
              onClick={() => setMode(mode === 'comment' ? null : 'comment')}
            >
              {comments.length ? `Comments (${comments.length})` : 'Comment'}
            </button>
          )}
          {type !== 'comment' && (
            <button
              type="button"
              class="secondary small"
              aria-expanded={mode === 'tag'}
              onClick={() => setMode(mode === 'tag' ? null : 'tag')}
            >
              Tag
            </button>
          )}
          {mine && (
            <span class="push">
              <DeleteEntry entry={entry} />
            </span>
          )}
        </div>
      )}
      {mode === 'comment' && comments.length > 0 && (
        <ol class="comments" aria-label="Comments">
          {comments.map((c) => (
            <li key={c.hash}>
              <EntryCard entry={c} compact />
            </li>
          ))}
        </ol>
      )}
      {mode && <Respond entry={entry} mode={mode} onDone={() => setMode(null)} />}
    </article>
  );
}

export function EntryList({
  entries,
  empty,
  responses,
}: {
  entries: Entry[] | undefined;
  empty: string;
  responses?: Map<Hash, Responses>;
}) {
  if (!entries) return <p aria-live="polite">Loading…</p>;
  if (entries.length === 0) return <p class="empty">{empty}</p>;
  return (
    <ol class="entries" aria-label="Entries, newest first">
      {entries.map((e) => (
        <li key={e.hash}>
          <EntryCard entry={e} responses={responses?.get(e.hash)} />
        </li>
      ))}
    </ol>
  );
}
