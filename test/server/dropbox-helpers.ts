/** Helpers for the dropbox's tests: drops as the client engine makes them, synod feeds, and request/answer pairs. */
import { env } from 'cloudflare:workers';
import {
  createEntry,
  hashOf,
  seal,
  signMembership,
  utf8,
  type Entry,
  type Hash,
  type Identity,
  type KeyPair,
  type Payload,
  type WireMessage,
} from '../../src/protocol/index.ts';
import type { Session } from '../support/room-client.ts';
import { count } from './hosted-helpers.ts';
import { sleep } from './room-helpers.ts';

/** A drop as the client engine makes it: a standalone private_note, envelope kind "drop", sealed to the readers. */
export async function makeDrop(
  keys: KeyPair,
  readers: Identity[],
  text = 'hello from a stranger',
  comparable = Date.now(),
): Promise<Entry> {
  const { envelope } = seal(utf8(text), { author: keys.identity, kind: 'drop', readers });
  return createEntry(keys, { parent: null, comparable, synod: null, payload: { type: 'private_note', envelope } });
}

let ids = 0;

/** Sends `message` with a fresh id and answers the room's ok, lease or error to it. */
export async function ask(s: Session, message: Record<string, unknown>, ms = 10_000): Promise<WireMessage> {
  const id = `q${ids++}`;
  s.client.send({ ...message, id });
  const deadline = Date.now() + ms;
  for (;;) {
    const i = s.client.inbox.findIndex((m) => (m.type === 'ok' || m.type === 'error' || m.type === 'lease') && m.re === id);
    if (i >= 0) return s.client.inbox.splice(i, 1)[0]!;
    if (Date.now() > deadline) throw new Error(`no answer to ${String(message.type)} ${id}`);
    await sleep(5);
  }
}

/** `drop` of `entry` for `target`, answering the room's ok or error. */
export const drop = (from: Session, target: Identity, entry: Entry, sender: Identity = entry.body.identity) =>
  ask(from, { type: 'drop', target, sender, entry: entry.text });

export const rowsFor = (target: string) => count('SELECT COUNT(*) AS n FROM drops WHERE target = ?', target);

/** Announces `entry` from `s` and waits for the room's answer. */
export const announce = (s: Session, entry: Entry) => ask(s, { type: 'announce', entry: entry.text });

/**
 * A synod's feed, root first: an identification, then one add_device per
 * device (with the device's membership proof), then the `extra` payloads.
 */
export async function synodFeed(synod: KeyPair, devices: readonly KeyPair[], extra: readonly Payload[] = []): Promise<Entry[]> {
  const out: Entry[] = [];
  const append = async (payload: Payload) => {
    const parent = out[out.length - 1];
    out.push(await createEntry(synod, { parent: parent?.hash ?? null, comparable: out.length + 1, synod: null, payload }));
  };
  await append({ type: 'identification', name: 'Us' });
  for (const d of devices)
    await append({ type: 'synod', op: 'add_device', device: d.identity, proof: await signMembership(d, synod.identity) });
  for (const p of extra) await append(p);
  return out;
}

/** A device's first entry, claiming `synod` at `head`. */
export const claiming = (device: KeyPair, synod: Identity, head: Hash, comparable = 1): Promise<Entry> =>
  createEntry(device, { parent: null, comparable, synod: [synod, head], payload: { type: 'public_note', text: 'hi' } });

/** Drops straight into D1, as if `n` had been left already (quota tests). */
export function fillDrops(target: string, sender: string, n: number, size = 1, ip?: string) {
  const now = Date.now();
  const columns = `hash, target, sender, entry, size, created_at, expires_at${ip === undefined ? '' : ', ip'}`;
  return env.DB.batch(
    Array.from({ length: n }, (_, i) =>
      env.DB.prepare(`INSERT INTO drops (${columns}) VALUES (?, ?, ?, 'x', ?, ?, ?${ip === undefined ? '' : ', ?'})`).bind(
        hashOf(utf8(`${target} ${sender} ${i} ${Math.random()}`)),
        target,
        sender,
        size,
        now + i,
        now + 1e9 + i,
        ...(ip === undefined ? [] : [ip]),
      ),
    ),
  );
}
