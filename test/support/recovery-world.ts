/**
 * A small world for recovery through friends, with Node peers (src/peer,
 * memory stores) against a running Worker: an account whose friends follow
 * it and keep its shares. Used by test/node/recovery-live.test.ts and
 * bench/recovery.bench.ts.
 */
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import type { Identity } from '../../src/protocol/index.ts';
import { eventually, headOf } from '../peer/helpers.ts';

/** Six peers on one room: under the full suite's load on two cores, a step can take tens of seconds. */
const DEADLINE_MS = 60_000;

export interface World {
  readonly origin: string;
  readonly url: string;
  readonly servers: { signalling: string[]; dropboxes: string[] };
  readonly peers: Peer[];
}

let rooms = 0;

export const newWorld = (origin: string, label = 'recovery'): World => {
  const url = `${origin.replace(/^http/, 'ws')}/room/${label}-${++rooms}-${Date.now() % 100_000}`;
  return { origin, url, servers: { signalling: [url], dropboxes: [origin] }, peers: [] };
};

/** A peer in the world's room and, once it has an account, in its dropbox room, as the app is. */
export async function peerIn(w: World, name?: string): Promise<Peer> {
  const peer = await Peer.open({ store: new MemoryStore() });
  w.peers.push(peer);
  const room = peer.connect(w.url);
  if (room.status !== 'online') await room.events.once('status', (s) => s === 'online');
  if (name) {
    await peer.createSynod({ name }, w.servers, `${name}'s laptop`);
    peer.connect(`${w.origin.replace(/^http/, 'ws')}/room/dropbox`);
  }
  return peer;
}

export interface Circle {
  readonly owner: Peer;
  readonly friends: Peer[];
  /** The owner's words, for the baseline (restore from the 24 words). */
  readonly words: string;
  /** The owner's device head once the friends hold it. */
  readonly head: string;
}

/** `name` with a note and follows, `friendNames` following them back, the account split `threshold` of n. */
export async function circle(w: World, name: string, friendNames: readonly string[], threshold: number): Promise<Circle> {
  const owner = await peerIn(w, name);
  const friends = await Promise.all(friendNames.map((n) => peerIn(w, n)));
  await owner.postNote(`written by ${name} before the loss`);
  for (const f of friends) {
    await f.follow(owner.synodIdentity!);
    await owner.follow(f.synodIdentity!);
  }
  for (const f of friends)
    await eventually(() => owner.synodState(f.synodIdentity) !== undefined, DEADLINE_MS, "the owner to hold a friend's account");
  const chosen = await owner.recovery.chooseFriends(
    friends.map((f) => f.synodIdentity!),
    threshold,
  );
  if (chosen.sent.length !== friends.length)
    throw new Error(`shares reached ${chosen.sent.length} of ${friends.length} friends: ${JSON.stringify(chosen.failed)}`);
  for (const f of friends) await eventually(async () => (await f.recovery.held()).length === 1, DEADLINE_MS, 'a friend to keep the share');
  const head = (await owner.replica.head(owner.identity))!.hash;
  for (const f of friends)
    await eventually(async () => (await headOf(f, owner.identity)) === head, DEADLINE_MS, "a friend to hold the owner's feed");
  return { owner, friends, words: (await owner.mnemonic()) ?? '', head };
}

/** A friend answers the request from `device` with `code`, as the person read it out. */
export async function answer(friend: Peer, device: Identity, account: Identity, code: string): Promise<void> {
  await eventually(async () => (await friend.recovery.requests()).some((r) => r.device === device), DEADLINE_MS, 'the request to arrive');
  const request = (await friend.recovery.requests()).find((r) => r.device === device)!;
  await friend.recovery.release(request.hash, account, code);
}

/**
 * A fresh device asks `friends` and they answer the moment the request is
 * there (the code read out at once): milliseconds from asking to the
 * account restored on the fresh device.
 */
export async function timedRecovery(w: World, c: Circle, friends: readonly Peer[]): Promise<{ ms: number; device: Peer }> {
  const account = c.owner.synodIdentity!;
  const fresh = await peerIn(w);
  const t0 = performance.now();
  const restored = fresh.recovery.events.once('restored');
  const asked = await fresh.recovery.ask(
    friends.map((f) => f.synodIdentity!),
    c.owner.synodState()?.profile.name ?? 'me',
    { replyTo: [w.origin] },
  );
  await Promise.all(friends.map((f) => answer(f, fresh.identity, account, asked.asked.find((a) => a.friend === f.synodIdentity)!.code)));
  await restored;
  return { ms: performance.now() - t0, device: fresh };
}
