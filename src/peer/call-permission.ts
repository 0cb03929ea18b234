/**
 * Who may call us: the rule a callee applies before it
 * rings, and the local list it reads. Apart from the call machinery
 * (calls.ts) because it is a question of trust asked of the replica and the
 * settings, with no media or signalling in it; the app's list screen and push
 * handling ask it too.
 */
import type { Identity } from '../protocol/index.ts';
import type { Peer } from './peer.ts';

/** The store setting holding the people (synods) allowed to call. */
export const PERMITTED_SETTING = 'calls-permitted';

export async function permitted(peer: Peer): Promise<Identity[]> {
  return (await peer.replica.store.getSetting<Identity[]>(PERMITTED_SETTING)) ?? [];
}

export async function setPermitted(peer: Peer, person: Identity, allowed: boolean): Promise<void> {
  const list = new Set(await permitted(peer));
  if (allowed) list.add(person);
  else list.delete(person);
  await peer.replica.store.putSetting(PERMITTED_SETTING, [...list]);
}

/** The person (synod) a device belongs to, as our replica knows it. */
export async function personOf(peer: Peer, device: Identity): Promise<Identity | null> {
  return (await peer.profileOf(device)).synod;
}

/** Whether a device may call us: its person and we follow each other, and it is on our list. Null when it may. */
export async function refusal(peer: Peer, device: Identity): Promise<string | null> {
  if (peer.replica.isBlocked(device)) return 'blocked';
  const person = await personOf(peer, device);
  if (!person) return 'unknown identity';
  if (!(await permitted(peer)).includes(person)) return 'not on the list of who may call';
  if (!peer.replica.reasons(person).includes('follow')) return 'we do not follow them';
  const me = [peer.synodIdentity, peer.identity].filter((x): x is Identity => x !== null);
  const state = peer.replica.synod(person);
  const theirs = [person, ...(state ? [...state.devices.keys()] : [])];
  for (const feedOf of theirs) {
    for (const entry of await peer.feed(feedOf, 1000)) {
      const p = entry.body.payload as { type: string; identity?: Identity };
      if (p.type === 'follow' && p.identity !== undefined && me.includes(p.identity)) return null;
    }
  }
  return 'they do not follow us';
}
