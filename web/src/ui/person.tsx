/** Anyone's page: name, picture, about, "follows you", their posts and whom they follow; an invite link lands here too. */
import { useEffect, useState } from 'preact/hooks';
import type { Entry, Identity } from '../../../src/protocol/index.ts';
import { peer, syncs } from '../engine.ts';
import { followsOf, identitiesOf, isFollowing } from '../relations.ts';
import { Avatar, checkIdentity, displayName, ScreenTitle, useAsync, useProfile, Who } from './common.tsx';
import { IdentityCard } from './identity-card.tsx';
import { EntryList, isContent, responsesOf } from './entry.tsx';
import { Alert } from './forms.tsx';
import { FeedHistoryNotes } from './history.tsx';
import { PersonRow, Relations } from './people.tsx';
import { ApproveFollower, PrivatePostsNote } from './private-feed.tsx';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

async function feedOf(identity: Identity): Promise<Entry[]> {
  const all = (await Promise.all(identitiesOf(identity).map((i) => peer().feed(i, 200)))).flat();
  return all.sort((a, b) => b.body.comparable - a.body.comparable).slice(0, 400);
}

export function IdentityPage({ identity: raw, invited = false }: { identity: string; invited?: boolean }) {
  const check = checkIdentity(raw);
  if (!check.identity) {
    return (
      <>
        <ScreenTitle>Unknown identity</ScreenTitle>
        <Alert>{check.error ?? 'No identity given.'}</Alert>
      </>
    );
  }
  return <PersonView key={check.identity} identity={check.identity} invited={invited} />;
}

/** While following: whether their posts are on their way, or waiting for someone who has them. */
function SyncStatus({ identity, posts }: { identity: Identity; posts: number }) {
  const mine = new Set(identitiesOf(identity));
  const rows = Object.values(syncs.value).filter((s) => mine.has(s.identity));
  if (rows.some((r) => !r.done))
    return (
      <p class="hint" role="status">
        Fetching their posts…
      </p>
    );
  if (posts > 0 || rows.length > 0) return null;
  return (
    <p class="hint" role="status">
      Their posts arrive when they, or someone who has them, is online.
    </p>
  );
}

function PersonView({ identity, invited }: { identity: Identity; invited: boolean }) {
  const p = peer();
  const [tab, setTab] = useState<'posts' | 'follows'>('posts');
  // Not followed: fetch their account feed alone, for the name and picture.
  useEffect(() => void (p.replica.isWatched(identity) || p.lookUp(identity)), [identity]);
  const profile = useProfile(identity);
  const name = displayName(identity, profile);
  const feed = useAsync(() => feedOf(identity), [identity]);
  const follows = useAsync(() => followsOf(identity), [identity]);
  const followsYou = useAsync(() => p.followsMe(identity), [identity]).value;
  const state = p.synodState(identity);
  const followed = isFollowing(identity);
  const posts = feed.value?.filter((e) => isContent(e) && e.body.payload.type !== 'comment');
  return (
    <>
      {invited && !followed && (
        <p class="banner invite" role="note">
          You opened {name}’s invite link. Follow to see their posts; they see yours once they follow you.
        </p>
      )}
      <div class="profile-head">
        <Avatar identity={identity} profile={profile} size={72} />
        <div>
          <ScreenTitle>{name}</ScreenTitle>
          <p class="badges">
            {followsYou && <span class="badge ok">Follows you</span>}
            {state ? (
              <span class="hint">{plural([...state.devices.values()].filter((d) => d.cut === null).length, 'device')}</span>
            ) : profile?.synod && profile.synod !== identity ? (
              <span class="hint">
                A device of <Who identity={profile.synod} />
              </span>
            ) : null}
          </p>
          {profile?.about && <p class="about">{profile.about}</p>}
        </div>
      </div>
      <Relations identity={identity} primary={invited} />
      <ApproveFollower identity={identity} />
      <FeedHistoryNotes identity={identity} />
      <PrivatePostsNote entries={feed.value} />
      {followed && <SyncStatus identity={identity} posts={posts?.length ?? 0} />}
      <div class="segmented" role="group" aria-label="Show">
        <button type="button" aria-pressed={tab === 'posts'} onClick={() => setTab('posts')}>
          Posts{posts ? ` (${posts.length})` : ''}
        </button>
        <button type="button" aria-pressed={tab === 'follows'} onClick={() => setTab('follows')}>
          Follows{follows.value ? ` (${follows.value.length})` : ''}
        </button>
      </div>
      {tab === 'posts' ? (
        !followed && !posts?.length ? (
          <p class="empty">Follow {name} to fetch their posts from the network.</p>
        ) : (
          <EntryList entries={posts} responses={feed.value && responsesOf(feed.value)} empty="No posts here yet." />
        )
      ) : follows.value?.length ? (
        <ul class="people">
          {follows.value.map((i) => (
            <PersonRow key={i} identity={i} />
          ))}
        </ul>
      ) : (
        <p class="empty">
          {followed ? `${name} follows nobody yet, as far as this device knows.` : `Follow ${name} to see whom they follow.`}
        </p>
      )}
      <details class="card">
        <summary>Invite link and QR code</summary>
        <IdentityCard identity={identity} title={`${name}’s invite link`} />
      </details>
    </>
  );
}
