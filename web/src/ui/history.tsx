/**
 * On a profile: what its feeds' history says (src/peer/history.ts): "Rewrote
 * 3 posts on 3 Dec 2026 (1 deleted)" for each rewrite a rebase entry
 * announced, and a warning for two versions of the past that no rewrite
 * explains. Mounted in person.tsx, under the profile head.
 */
import type { Identity } from '../../../src/protocol/index.ts';
import { peer } from '../engine.ts';
import { exactTime } from '../lib/format.ts';
import { identitiesOf } from '../relations.ts';
import { useAsync } from './common.tsx';

const posts = (n: number) => `${n} post${n === 1 ? '' : 's'}`;
const day = (ms: number) => exactTime(ms).split(',')[0];

export function FeedHistoryNotes({ identity }: { identity: Identity }) {
  const found = useAsync(async () => {
    const all = await Promise.all(identitiesOf(identity).map((i) => peer().history.of(i)));
    return { rewrites: all.flatMap((h) => h.rewrites), conflicts: all.flatMap((h) => h.conflicts) };
  }, [identity]).value;
  if (!found || (found.rewrites.length === 0 && found.conflicts.length === 0)) return null;
  return (
    <ul class="history-notes" aria-label="Changes to the past">
      {found.rewrites.map((r) => (
        <li key={r.from} class="hint">
          Rewrote {posts(r.rewritten + r.removed)} on <time dateTime={new Date(r.date).toISOString()}>{day(r.date)}</time>
          {r.removed > 0 ? ` (${r.removed} deleted)` : ''}
        </li>
      ))}
      {found.conflicts.map((c) => (
        <li key={`${c.old.hash} ${c.winner.hash}`} class="warning" role="note">
          {c.kind === 'equivocation'
            ? 'Signed two different versions of one post: this device shows one of them.'
            : 'Changed earlier posts without saying so.'}{' '}
          Seen <time dateTime={new Date(c.seenAt).toISOString()}>{day(c.seenAt)}</time>.
        </li>
      ))}
    </ul>
  );
}
