/** Shared fixtures for protocol tests: hand-signed bodies, to reach states createEntry refuses to make. */
import {
  createEntry,
  hashOf,
  utf8,
  type Entry,
  type EntryFields,
  type Hash,
  type KeyPair,
  type Payload,
} from '../../src/protocol/index.ts';

/** Signs any body text as an entry, valid or not: the attacker's tool. */
export async function signBody(keys: KeyPair, body: string): Promise<string> {
  return `${body}\n${await keys.sign('entry', utf8(body))}`;
}

export const note = (text: string): Payload => ({ type: 'public_note', text });

/** A chain of `n` notes, root first. */
export async function chainOf(keys: KeyPair, n: number, start = 1000, extra: Partial<EntryFields> = {}): Promise<Entry[]> {
  const out: Entry[] = [];
  let parent: Hash | null = null;
  for (let i = 0; i < n; i++) {
    const e = await createEntry(keys, { parent, comparable: start + i, synod: null, payload: note(`note ${i}`), ...extra });
    out.push(e);
    parent = e.hash;
  }
  return out;
}

export const fakeHash = (label: string): Hash => hashOf(utf8(label));
