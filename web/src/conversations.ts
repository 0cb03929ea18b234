/**
 * Conversations as the app shows them: threads (engine: threadsOf), message
 * requests from people not followed (Signal's accept / ignore / block), what
 * was read, and the unread count for the tab bar. Accepting and ignoring are
 * this device's choices, kept in its store; blocking mutes (nobody is told).
 */
import { signal } from '@preact/signals';
import type { Identity, VerifiedSender } from '../../src/protocol/index.ts';
import { defaultServers, dropboxRoom, peer, threadsOf, tick, type ChatMessage, type Thread } from './engine.ts';
import { isFollowing, ownIdentities } from './relations.ts';

const READ = 'threads-read';
const ACCEPTED = 'accepted-people';
const IGNORED = 'threads-ignored';

export interface ThreadView extends Thread {
  /** From people this person does not follow, not accepted and not answered yet. */
  readonly request: boolean;
  readonly unread: number;
}

/** Unread messages, for the tab bar. */
export const unread = signal(0);
/** Names, about and avatars proven by strangers' cards: shown where the account's own feed is not replicated. */
export const cardProfiles = signal<ReadonlyMap<Identity, VerifiedSender>>(new Map());

const setting = async <T>(name: string, fallback: T): Promise<T> => (await peer().replica.store.getSetting<T>(name)) ?? fallback;

export const me = (): Identity => peer().synodIdentity ?? peer().identity;

export async function loadThreads(): Promise<ThreadView[]> {
  const p = peer();
  const messages = await p.messages();
  const cards = new Map(cardProfiles.value);
  let changed = false;
  for (const m of messages) {
    if (m.sender && !cards.has(m.sender.synod)) {
      cards.set(m.sender.synod, m.sender);
      changed = true;
    }
  }
  if (changed) cardProfiles.value = cards;
  const [read, accepted, ignored] = await Promise.all([
    setting<Record<string, number>>(READ, {}),
    setting<Identity[]>(ACCEPTED, []),
    setting<Record<string, number>>(IGNORED, {}),
  ]);
  const own = ownIdentities();
  const views = threadsOf(messages, me())
    .filter((t) => (ignored[t.key] ?? 0) < t.last.at)
    .map((t): ThreadView => {
      const answered = t.messages.some((m) => own.has(m.from));
      const known = t.people.some((i) => own.has(i) || isFollowing(i) || accepted.includes(i));
      return {
        ...t,
        request: !answered && !known,
        unread: t.messages.filter((m) => !own.has(m.from) && m.at > (read[t.key] ?? 0)).length,
      };
    });
  unread.value = views.reduce((n, v) => n + v.unread, 0);
  return views;
}

/** The thread was seen: its messages are read and its drops acknowledged to the inbox. */
export async function markRead(thread: Thread): Promise<void> {
  const p = peer();
  for (const m of thread.messages) if (m.via === 'drop' && !m.acknowledged) await p.acknowledgeDrop(m.hash);
  const read = await setting<Record<string, number>>(READ, {});
  if ((read[thread.key] ?? 0) >= thread.last.at) return;
  await p.replica.store.putSetting(READ, { ...read, [thread.key]: thread.last.at });
  tick.value++;
}

export async function accept(thread: Thread): Promise<void> {
  const accepted = await setting<Identity[]>(ACCEPTED, []);
  await peer().replica.store.putSetting(ACCEPTED, [...new Set([...accepted, ...thread.people])]);
  tick.value++;
}

/** Hidden until someone in it writes again; the sender is not told. */
export async function ignore(thread: Thread): Promise<void> {
  const ignored = await setting<Record<string, number>>(IGNORED, {});
  await peer().replica.store.putSetting(IGNORED, { ...ignored, [thread.key]: thread.last.at });
  await markRead(thread);
}

/** A private block (mute) of everyone in the thread: their messages and posts stop reaching this person. */
export async function block(thread: Thread): Promise<void> {
  for (const person of thread.people) await peer().mute(person);
  await ignore(thread);
}

/** Where a reply to `person` goes: the dropbox their card named, else the one their message came through, else this server's. */
function viaFor(messages: readonly ChatMessage[]) {
  return (person: Identity): string | undefined => {
    const theirs = [...messages].reverse().find((m) => m.from === person && (m.replyTo?.length || m.server));
    const endpoint = theirs?.replyTo?.[0];
    if (endpoint) return dropboxRoom(endpoint);
    if (theirs?.server) return theirs.server;
    // Their account is replicated here (looked up or followed): the engine takes the dropbox it publishes.
    if (peer().synodState(person)?.dropboxes.length) return undefined;
    const fallback = defaultServers().dropboxes[0];
    return fallback ? dropboxRoom(fallback) : undefined;
  };
}

/** Send to the people of a thread (or a new one), replying through what their messages said. */
export async function send(people: readonly Identity[], text: string, history: readonly ChatMessage[] = []) {
  const result = await peer().sendMessage(people, text, {
    via: viaFor(history),
    devices: (person) => [...new Set(history.filter((m) => m.from === person).map((m) => m.author))],
  });
  tick.value++;
  return result;
}

export const threadKey = (people: readonly Identity[]): string => [...new Set(people)].sort().join(' ');
