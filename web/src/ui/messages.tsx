/**
 * Messages: conversations with people or groups, newest first, each a thread
 * with replies in place; requests from people you do not follow apart, to
 * accept, ignore or block (as Signal does). Every message says whom it is for.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { accept, block, ignore, loadThreads, markRead, me, send, threadKey, type ThreadView } from '../conversations.ts';
import { notify, type ChatMessage } from '../engine.ts';
import { exactTime, when } from '../lib/format.ts';
import { following, ownIdentities } from '../relations.ts';
import { go } from '../router.ts';
import { Avatar, checkIdentity, displayName, ScreenTitle, useAsync, useProfile, Who } from './common.tsx';
import { IdentityField } from './identity-card.tsx';
import { Alert, Confirm, Field, useAction } from './forms.tsx';

function Name({ identity }: { identity: Identity }) {
  return <>{displayName(identity, useProfile(identity))}</>;
}

/** "Ada, Bo and you": this person's own account reads as "you". */
function Names({ people }: { people: readonly Identity[] }) {
  const own = me();
  return (
    <>
      {people.map((i, n) => (
        <span key={i}>
          {n > 0 && (n === people.length - 1 ? ' and ' : ', ')}
          {i === own ? 'you' : <Name identity={i} />}
        </span>
      ))}
    </>
  );
}

function ThreadRow({ t }: { t: ThreadView }) {
  const first = t.people[0] as Identity;
  const profile = useProfile(first);
  const mine = t.last.from === me();
  return (
    <li class={`thread-row ${t.unread ? 'unread' : ''}`} data-key={t.key}>
      <a href={`#/thread/${encodeURIComponent(t.key)}`}>
        <Avatar identity={first} profile={profile} size={44} />
        <span class="thread-text">
          <span class="thread-names">
            <Names people={t.people} />
          </span>
          <span class="snippet">
            {mine ? 'You: ' : ''}
            {t.last.text}
          </span>
        </span>
        <span class="thread-meta">
          <time dateTime={new Date(t.last.at).toISOString()}>{when(t.last.at)}</time>
          {t.unread > 0 && (
            <span class="count" aria-label={`${t.unread} unread`}>
              {t.unread}
            </span>
          )}
        </span>
      </a>
    </li>
  );
}

function NewMessage() {
  const people = useAsync(following, []);
  const [chosen, setChosen] = useState<Identity[]>([]);
  const [extra, setExtra] = useState('');
  const check = checkIdentity(extra);
  const [error, setError] = useState<string | null>(null);
  const toggle = (i: Identity) => setChosen(chosen.includes(i) ? chosen.filter((c) => c !== i) : [...chosen, i]);
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        const to = [...chosen];
        if (extra.trim()) {
          if (!check.identity) return setError(check.error);
          to.push(check.identity);
        }
        if (to.length === 0) return setError('Choose at least one person.');
        go('thread', threadKey(to));
      }}
    >
      <h3>New message</h3>
      <fieldset>
        <legend>To</legend>
        {people.value?.length ? (
          people.value.map((i) => (
            <label class="check" key={i}>
              <input type="checkbox" checked={chosen.includes(i)} onChange={() => toggle(i)} /> <Name identity={i} />
            </label>
          ))
        ) : (
          <p class="hint">People you follow are listed here. Anyone else: paste their link or identity.</p>
        )}
      </fieldset>
      <IdentityField label="Someone else (link or identity)" value={extra} onValue={setExtra} error={extra ? check.error : null} />
      <Alert>{error}</Alert>
      <button type="submit">Write</button>
    </form>
  );
}

export function Messages() {
  const threads = useAsync(loadThreads, []);
  const [writing, setWriting] = useState(false);
  const list = threads.value ?? [];
  const requests = list.filter((t) => t.request);
  const conversations = list.filter((t) => !t.request);
  return (
    <>
      <ScreenTitle>Messages</ScreenTitle>
      <p class="row spread">
        <span class="hint">Only the people in a conversation can read it.</span>
        <button type="button" class="small" aria-expanded={writing} onClick={() => setWriting(!writing)}>
          New message
        </button>
      </p>
      {writing && <NewMessage />}
      {requests.length > 0 && (
        <section class="requests" aria-labelledby="requests-h">
          <h3 id="requests-h">Message requests ({requests.length})</h3>
          <p class="hint">From people you don't follow. They don't know you've seen it until you reply.</p>
          <ul class="threads">
            {requests.map((t) => (
              <ThreadRow key={t.key} t={t} />
            ))}
          </ul>
        </section>
      )}
      <section aria-labelledby="conversations-h">
        <h3 id="conversations-h">Conversations</h3>
        {threads.value === undefined ? (
          <p aria-live="polite">Loading…</p>
        ) : conversations.length ? (
          <ul class="threads">
            {conversations.map((t) => (
              <ThreadRow key={t.key} t={t} />
            ))}
          </ul>
        ) : (
          <p class="empty">No conversations yet. Write to someone from their page, or with New message.</p>
        )}
      </section>
    </>
  );
}

function Bubble({ m }: { m: ChatMessage }) {
  const mine = ownIdentities().has(m.from);
  return (
    <li class={`bubble ${mine ? 'mine' : 'theirs'}`} data-id={m.id} data-via={m.via}>
      {!mine && (
        <p class="from">
          <Who identity={m.from} />
        </p>
      )}
      <p class="note">{m.text}</p>
      <p class="to-line">
        {m.to.length ? (
          <>
            To <Names people={m.to} />
          </>
        ) : (
          'A private note'
        )}
        {' · '}
        <time dateTime={new Date(m.at).toISOString()} title={exactTime(m.at)}>
          {when(m.at)}
        </time>
      </p>
    </li>
  );
}

function RequestBar({ t }: { t: ThreadView }) {
  const { busy, run } = useAction({ notifyErrors: true });
  return (
    <section class="request-bar card" aria-label="Message request">
      <p>
        <strong>
          <Names people={t.people} />
        </strong>{' '}
        {t.people.length > 1 ? 'are not people you follow.' : "isn't someone you follow."} Accept to reply; ignoring and blocking tell them
        nothing.
      </p>
      <div class="row">
        <button type="button" class="small" disabled={busy} onClick={() => run(() => accept(t).then(() => notify('Accepted.')))}>
          Accept
        </button>
        <button type="button" class="secondary small" disabled={busy} onClick={() => run(() => ignore(t).then(() => go('messages')))}>
          Ignore
        </button>
        <Confirm
          label="Block"
          confirmLabel="Block"
          warning={<p>You will see nothing more from them: not their messages, not their posts. They are not told.</p>}
          onConfirm={async () => {
            await block(t);
            go('messages');
            notify('Blocked. They are not told.');
          }}
        />
      </div>
    </section>
  );
}

export function ThreadPage({ threadKey: key }: { threadKey: string }) {
  const people = key.split(' ').filter(Boolean) as Identity[];
  const valid = people.length > 0 && people.every((i) => checkIdentity(i).identity);
  const threads = useAsync(loadThreads, []);
  const thread = threads.value?.find((t) => t.key === key);
  const [text, setText] = useState('');
  const { busy, error, setError, run } = useAction();
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (thread && !thread.request) void markRead(thread);
    end.current?.scrollIntoView({ block: 'end' });
  }, [thread?.last.id, thread?.request]);
  if (!valid) return <Alert>{'This conversation link is not valid.'}</Alert>;
  return (
    <>
      <p class="back">
        <a href="#/messages">← Messages</a>
      </p>
      <ScreenTitle>
        <Names people={people} />
      </ScreenTitle>
      {thread?.request && <RequestBar t={thread} />}
      {thread ? (
        <ol class="bubbles" aria-label="Messages, oldest first">
          {thread.messages.map((m) => (
            <Bubble key={m.id} m={m} />
          ))}
          <li ref={end} class="end" aria-hidden="true" />
        </ol>
      ) : (
        threads.value && <p class="empty">No messages yet. Say hello.</p>
      )}
      {!thread?.request && (
        <form
          class="reply"
          onSubmit={async (e) => {
            e.preventDefault();
            if (!text.trim()) return setError('Write something first.');
            await run(
              async () => {
                const result = await send(people, text, thread?.messages ?? []);
                setText('');
                if (result.failed.length) notify(`Not delivered to everyone: ${result.failed.map((f) => f.error).join('; ')}`, 'error');
              },
              (why) => `${why}. Your message was not sent; it is still here.`,
            );
          }}
        >
          <Field bare label="Your message" rows={2} maxLength={4000} value={text} onValue={setText} />
          <Alert>{error}</Alert>
          <button type="submit" disabled={busy}>
            {busy ? 'Sending…' : 'Send'}
          </button>
        </form>
      )}
      <Alert>{threads.error}</Alert>
    </>
  );
}
