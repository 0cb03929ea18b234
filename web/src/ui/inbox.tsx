/**
 * The inbox: messages left at a dropbox, often by people you do not follow
 * (design: Synods). Those are set apart and highlighted; each can be read,
 * acknowledged, answered or ignored. The sender learns nothing either way.
 */
import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { defaultServers, dropboxRoom, notify, peer, rooms, tick, type InboxMessage } from '../engine.ts';
import { exactTime, when } from '../lib/format.ts';
import { checkIdentity, IdentityField, ScreenTitle, useAsync, Who } from './common.tsx';
import { Alert, Field, useAction } from './forms.tsx';
import { isFollowing } from './people.tsx';

const IGNORED = 'inbox-ignored';
const SEND_TIMEOUT_MS = 15_000;

/** Unread messages, for the badge in the navigation. */
export const unread = signal(0);
export async function refreshUnread(): Promise<void> {
  const p = peer();
  const ignored = new Set((await p.replica.store.getSetting<string[]>(IGNORED)) ?? []);
  unread.value = (await p.inbox()).filter((m) => !m.acknowledged && !ignored.has(m.hash)).length;
}

/** Leave a message at a dropbox; fails clearly when the server does not answer. */
export async function sendMessage(target: Identity, text: string, server: string): Promise<void> {
  let room: string;
  try {
    room = dropboxRoom(server);
  } catch {
    throw new Error(`"${server}" is not a server address (https://… or wss://…/room/…)`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the dropbox at ${server} did not answer within ${SEND_TIMEOUT_MS / 1000} s; your message was not sent`)),
      SEND_TIMEOUT_MS,
    );
  });
  // A dropbox that is not one of ours is visited for this message only (no endless reconnecting to it).
  const visiting = !(room in rooms.value);
  try {
    await Promise.race([peer().sendDrop(target, text, room), timeout]);
  } catch (err) {
    const why = (err as Error).message.replace(/^the dropbox refused: /, '');
    throw new Error(
      /refused/.test((err as Error).message)
        ? `the dropbox at ${server} refused the message (${why}). Nothing was sent; try another server`
        : why,
    );
  } finally {
    clearTimeout(timer);
    if (visiting) peer().disconnect(room);
  }
}

function Compose({ to: initialTo }: { to: string }) {
  const [to, setTo] = useState(initialTo);
  const [text, setText] = useState('');
  const [server, setServer] = useState(defaultServers().dropboxes[0] ?? '');
  const { busy, error, setError, run } = useAction();
  const check = checkIdentity(to);
  useEffect(() => setTo(initialTo), [initialTo]);
  return (
    <form
      class="card"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!check.identity) return setError(check.error ?? 'Say who the message is for.');
        if (!text.trim()) return setError('Write something first.');
        const target = check.identity;
        await run(async () => {
          await sendMessage(target, text.trim(), server.trim());
          setText('');
          notify('Message left at the dropbox. They see it next time they connect.');
        });
      }}
    >
      <h3>Message someone</h3>
      <p class="hint">For people who may not follow you: the message is sealed for them and left at a dropbox they watch.</p>
      <IdentityField label="To (identity)" value={to} onValue={setTo} error={to ? check.error : null} />
      <Field label="Message" rows={3} maxLength={10_000} value={text} onValue={setText} />
      <details>
        <summary>Dropbox server</summary>
        <Field label="Server (one of theirs, if you know it)" type="url" value={server} onValue={setServer} />
      </details>
      <Alert>{error}</Alert>
      <button type="submit" disabled={busy}>
        {busy ? 'Sending…' : 'Send message'}
      </button>
    </form>
  );
}

function Message({ m, stranger, onIgnore }: { m: InboxMessage; stranger: boolean; onIgnore: () => void }) {
  const [open, setOpen] = useState(!m.acknowledged);
  const [replying, setReplying] = useState(false);
  const [reply, setReply] = useState('');
  const { busy, run } = useAction({ notifyErrors: true });
  return (
    <li class={`message ${stranger ? 'stranger' : ''} ${m.acknowledged ? 'read' : 'unread'}`} data-hash={m.hash}>
      <header>
        <Who identity={m.sender} avatar />
        {stranger && <span class="badge warn">Not someone you follow</span>}
        {!m.acknowledged && <span class="badge">New</span>}
        <time dateTime={new Date(m.receivedAt).toISOString()} title={exactTime(m.receivedAt)}>
          {when(m.receivedAt)}
        </time>
      </header>
      {open ? (
        <p class="note">{m.text ?? 'This message could not be opened: it was not sealed for your keys.'}</p>
      ) : (
        <button type="button" class="secondary small" onClick={() => setOpen(true)}>
          Read
        </button>
      )}
      <div class="row actions">
        {!m.acknowledged && (
          <button
            type="button"
            class="small"
            onClick={async () => {
              await peer().acknowledgeDrop(m.hash);
              tick.value++;
              void refreshUnread();
            }}
          >
            Acknowledge
          </button>
        )}
        <button type="button" class="secondary small" aria-expanded={replying} onClick={() => setReplying(!replying)}>
          Reply
        </button>
        {stranger && (
          <button
            type="button"
            class="secondary small"
            onClick={async () => {
              await peer().follow(m.sender);
              tick.value++;
              notify('Following.');
            }}
          >
            Follow
          </button>
        )}
        <button type="button" class="secondary small" onClick={onIgnore}>
          Ignore
        </button>
      </div>
      {replying && (
        <form
          class="respond"
          onSubmit={async (e) => {
            e.preventDefault();
            if (!reply.trim()) return;
            await run(async () => {
              await sendMessage(m.sender, reply.trim(), m.server);
              setReply('');
              setReplying(false);
              notify('Reply left at the dropbox.');
            });
          }}
        >
          <Field bare label="Your reply" rows={2} value={reply} onValue={setReply} />
          <button type="submit" disabled={busy}>
            Send reply
          </button>
        </form>
      )}
    </li>
  );
}

export function Inbox({ to }: { to: string }) {
  const p = peer();
  const data = useAsync(async () => {
    const ignored = new Set((await p.replica.store.getSetting<string[]>(IGNORED)) ?? []);
    const all = (await p.inbox()).filter((m) => !ignored.has(m.hash));
    const strangers: InboxMessage[] = [];
    const known: InboxMessage[] = [];
    for (const m of all) {
      const synod = (await p.profileOf(m.sender)).synod;
      (isFollowing(m.sender) || (synod && isFollowing(synod)) ? known : strangers).push(m);
    }
    void refreshUnread();
    return { strangers, known };
  }, []);
  const ignore = async (hash: string) => {
    const ignored = (await p.replica.store.getSetting<string[]>(IGNORED)) ?? [];
    await p.replica.store.putSetting(IGNORED, [...ignored, hash]);
    tick.value++;
    void refreshUnread();
    notify('Ignored. The sender is not told.', 'info');
  };
  return (
    <>
      <ScreenTitle>Inbox</ScreenTitle>
      {data.value && (
        <>
          <section class="inbox-section strangers" aria-labelledby="from-strangers">
            <h3 id="from-strangers">From people you don't follow</h3>
            {data.value.strangers.length ? (
              <ul class="messages">
                {data.value.strangers.map((m) => (
                  <Message key={m.hash} m={m} stranger onIgnore={() => void ignore(m.hash)} />
                ))}
              </ul>
            ) : (
              <p class="empty">No messages from strangers.</p>
            )}
          </section>
          <section class="inbox-section" aria-labelledby="from-known">
            <h3 id="from-known">From people you follow</h3>
            {data.value.known.length ? (
              <ul class="messages">
                {data.value.known.map((m) => (
                  <Message key={m.hash} m={m} stranger={false} onIgnore={() => void ignore(m.hash)} />
                ))}
              </ul>
            ) : (
              <p class="empty">None.</p>
            )}
          </section>
        </>
      )}
      <Compose to={to} />
    </>
  );
}
