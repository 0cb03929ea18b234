/** Reading: Home (everyone followed, newest first, comments under their posts), one post, and a tag's view. */
import { useState } from 'preact/hooks';
import type { Entry, Hash } from '../../../src/protocol/index.ts';
import { peer } from '../engine.ts';
import { ScreenTitle, useAsync } from './common.tsx';
import { NoteForm } from './compose.tsx';
import { EntryCard, EntryList, isContent, responsesOf } from './entry.tsx';
import { hashtagsOf } from './richtext.tsx';

/** Top-level cards: comments and tags go under the post they answer when it is here; messages live in Messages. */
function topLevel(entries: readonly Entry[], all: boolean): Entry[] {
  const here = new Set(entries.map((e) => e.hash));
  return entries.filter((e) => {
    const p = e.body.payload;
    if (p.type === 'private_note') return false;
    if ((p.type === 'comment' || p.type === 'tag') && here.has(p.target.entry)) return false;
    return all || isContent(e);
  });
}

export function Home() {
  const [all, setAll] = useState(false);
  const list = useAsync(() => peer().timeline(400), []);
  const entries = list.value;
  return (
    <>
      <ScreenTitle>Home</ScreenTitle>
      <NoteForm compact />
      <p class="row spread">
        <a href="#/compose">Post a photo or album</a>
        <label class="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} /> Show all activity
        </label>
      </p>
      <EntryList
        entries={entries && topLevel(entries, all)}
        responses={entries && responsesOf(entries)}
        empty="Nothing here yet. Post something, or find people to follow under People."
      />
    </>
  );
}

/** Text a tag can be found in: notes, captions, comments. */
function textOf(e: Entry): string {
  const p = e.body.payload;
  return p.type === 'public_note' || p.type === 'comment' ? p.text : p.type === 'image' ? (p.caption ?? '') : '';
}

export function TagPage({ tag }: { tag: string }) {
  const wanted = tag.replace(/^#/, '').toLowerCase();
  const list = useAsync(() => peer().timeline(1000), [wanted]);
  const entries = list.value;
  const responses = entries && responsesOf(entries);
  const tagged = entries?.filter(
    (e) => isContent(e) && (hashtagsOf(textOf(e)).includes(wanted) || responses?.get(e.hash)?.tags.includes(wanted)),
  );
  return (
    <>
      <ScreenTitle>#{wanted}</ScreenTitle>
      <p class="hint">
        Posts with #{wanted} in their text, or tagged #{wanted}, from everyone you follow.
      </p>
      <EntryList entries={tagged} responses={responses} empty={`Nothing tagged #${wanted} here yet.`} />
    </>
  );
}

export function EntryPage({ hash }: { hash: string }) {
  const data = useAsync(async () => {
    const p = peer();
    const entry = await p.replica.store.getEntry(hash as Hash);
    return { entry, responses: responsesOf(await p.timeline(1000)) };
  }, [hash]);
  if (!data.value) return <p aria-live="polite">Loading…</p>;
  const { entry, responses } = data.value;
  return (
    <>
      <ScreenTitle>Post</ScreenTitle>
      {entry ? (
        <EntryCard entry={entry} responses={responses.get(entry.hash as Hash)} open={entry.body.payload.type !== 'comment'} />
      ) : (
        <p class="warning">
          This entry is not here. Its author may have deleted it (which rewrites later entries), or it has not synced yet.
        </p>
      )}
    </>
  );
}
