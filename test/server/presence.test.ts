/**
 * Presence by interest (docs/protocol.md §13.8) in workerd, across shards:
 * who hears of whom, and that nobody else does.
 *
 * "Hears nothing" is shown with a marker: a second identity homed at the
 * same shard as the one watched changes right after it. Changes from one
 * home shard reach a watcher's home in order, through one channel, and are
 * flushed in order; so once the watcher has the marker's change, any change
 * about the first identity would already have arrived.
 */
import { runInDurableObject } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import type { Identity, WireMessage } from '../../src/protocol/index.ts';
import { allow, until, visibility, watch, type RoomClient, type Session } from '../support/room-client.ts';
import { entry, join, keysAt, leaveAll, roomName, settleRooms, SHARDS, stubFor } from './room-helpers.ts';

afterAll(settleRooms);

/** Every presence_list item a client received about `identity`, in order. */
function heardOf(client: RoomClient, identity: Identity): string[] {
  const out: string[] = [];
  for (const m of client.inbox as WireMessage[]) {
    if (m.type !== 'presence_list') continue;
    if (m.peers.some((p) => p.identity === identity)) out.push('peer');
    if (m.offline?.includes(identity)) out.push('offline');
    if (m.heads?.some(([i]) => i === identity)) out.push('head');
  }
  return out;
}

const sees = (s: Session, identity: Identity) => until(() => s.client.present.has(identity), 5000, `${s.identity} to see ${identity}`);
const gone = (s: Session, identity: Identity) =>
  until(() => !s.client.present.has(identity), 5000, `${s.identity} to see ${identity} leave`);

describe('presence by interest', () => {
  it('a stranger watching you learns nothing of your presence; those you allow do (and it works across shards)', async () => {
    expect(SHARDS, 'these tests need a sharded room (ROOM_SHARDS ≥ 2 in wrangler.toml)').toBeGreaterThanOrEqual(2);
    const room = roomName('stranger');
    // Alice and the marker share shard 0; Bob (allowed) is homed elsewhere, Carol (a stranger) with Alice.
    const [aliceKeys, markerKeys, bobKeys, carolKeys] = [await keysAt(0), await keysAt(0), await keysAt(1), await keysAt(0)];
    const bob = await join(room, { keys: bobKeys });
    const carol = await join(room, { keys: carolKeys });
    await watch(bob.client, [aliceKeys.identity]);
    await watch(carol.client, [aliceKeys.identity, markerKeys.identity]);

    const alice = await join(room, { keys: aliceKeys, head: (await entry(aliceKeys, 10)).hash });
    await allow(alice.client, [bob.identity]);
    const marker = await join(room, { keys: markerKeys });
    await visibility(marker.client, true);

    // Positive control: Bob, whom Alice allows, sees her, with the head she came with.
    await sees(bob, alice.identity);
    expect(bob.client.present.get(alice.identity)).toBe((await entry(aliceKeys, 10)).hash);
    // Carol sees the marker (anyone may see it), and has heard nothing of Alice.
    await sees(carol, marker.identity);
    expect(heardOf(carol.client, alice.identity)).toEqual([]);

    // A head Alice announces reaches Bob, not Carol.
    const e = await entry(aliceKeys, 20);
    alice.client.send({ type: 'announce', id: 'h', entry: e.text });
    await alice.client.next('ok', (m) => m.re === 'h');
    await until(() => bob.client.heads.get(alice.identity) === e.hash, 5000, 'bob to hear the head');
    marker.client.send({ type: 'online', id: 'm', identity: marker.identity, head: (await entry(markerKeys, 5)).hash });
    await until(() => carol.client.present.get(marker.identity) !== null, 5000, "carol to hear the marker's claim");
    expect(heardOf(carol.client, alice.identity)).toEqual([]);

    // Alice leaves: Bob hears it, Carol does not.
    alice.client.close();
    await gone(bob, alice.identity);
    marker.client.close();
    await gone(carol, marker.identity);
    expect(heardOf(carol.client, alice.identity)).toEqual([]);
    expect(carol.client.invalid).toEqual([]);
    await leaveAll([bob, carol]);
  });

  it('a watcher gets arrivals, head claims, announced heads and departures; allow-list and opt-in changes show and hide', async () => {
    const room = roomName('watcher');
    const watcherKeys = await keysAt(1);
    const aliceKeys = await keysAt(2 % SHARDS);
    const w = await join(room, { keys: watcherKeys });
    await watch(w.client, [aliceKeys.identity]);
    const alice = await join(room, { keys: aliceKeys });
    await allow(alice.client, [w.identity]);
    await sees(w, alice.identity);
    expect(w.client.present.get(alice.identity)).toBeNull();

    // A head claim with `online`.
    const claimed = (await entry(aliceKeys, 7)).hash;
    alice.client.send({ type: 'online', identity: alice.identity, head: claimed });
    await until(() => w.client.present.get(alice.identity) === claimed, 5000, 'the claimed head');
    // An announced head.
    const announced = await entry(aliceKeys, 8);
    alice.client.send({ type: 'announce', id: 'a', entry: announced.text });
    await until(() => w.client.heads.get(alice.identity) === announced.hash, 5000, 'the announced head');

    // Alice takes the watcher off her allow-list: it sees her go; "anyone" shows her again.
    await allow(alice.client, [], [w.identity]);
    await gone(w, alice.identity);
    await visibility(alice.client, true);
    await sees(w, alice.identity);
    await visibility(alice.client, false);
    await gone(w, alice.identity);
    await allow(alice.client, [w.identity]);
    await sees(w, alice.identity);

    // Departure; and a watcher that stops watching hears nothing more.
    alice.client.close();
    await gone(w, alice.identity);
    await watch(w.client, [], [aliceKeys.identity]);
    const again = await join(room, { keys: aliceKeys });
    await visibility(again.client, true);
    const marker = await join(room, { keys: await keysAt(2 % SHARDS) });
    await visibility(marker.client, true);
    await watch(w.client, [marker.identity]);
    await sees(w, marker.identity);
    expect(w.client.present.has(alice.identity)).toBe(false);
    await leaveAll([w, again, marker]);
  });

  it('counts an identity once across its sockets: present after the first, offline after the last', async () => {
    const room = roomName('tabs');
    const keys = await keysAt(0);
    const w = await join(room, { keys: await keysAt(SHARDS - 1) });
    await watch(w.client, [keys.identity]);
    const tab1 = await join(room, { keys });
    await visibility(tab1.client, true);
    await sees(w, keys.identity);
    const tab2 = await join(room, { keys });
    tab1.client.close();
    await tab1.client.closed;
    // Still present through tab 2; then a marker homed with it arrives, so the watcher has had any change before it.
    const marker = await join(room, { keys: await keysAt(0) });
    await visibility(marker.client, true);
    await watch(w.client, [marker.identity]);
    await sees(w, marker.identity);
    expect(w.client.present.has(keys.identity)).toBe(true);
    tab2.client.close();
    await gone(w, keys.identity);
    await leaveAll([w, marker]);
  });

  it('a new watcher gets the present state; several tabs of a watcher each get it', async () => {
    const room = roomName('late');
    const alice = await join(room, { keys: await keysAt(0) });
    await visibility(alice.client, true);
    const keys = await keysAt(1);
    const tab1 = await join(room, { keys });
    await watch(tab1.client, [alice.identity]);
    await sees(tab1, alice.identity);
    const tab2 = await join(room, { keys });
    await watch(tab2.client, [alice.identity]);
    await sees(tab2, alice.identity);
    // The first tab leaving keeps the subscription the second still needs.
    tab1.client.close();
    await tab1.client.closed;
    alice.client.close();
    await gone(tab2, alice.identity);
    tab2.client.close();
  });

  it('watching a synod watches the devices that claim it, each still deciding who sees it', async () => {
    const room = roomName('synod');
    const synod = await keysAt(2 % SHARDS);
    const synodHead = await entry(synod, 1);
    const claim = async (s: Session, comparable: number) => {
      const own = await entry(s.keys, comparable, null, [synod.identity, synodHead.hash]);
      s.client.send({ type: 'announce', id: `c${comparable}`, entry: own.text });
      await s.client.next('ok', (m) => m.re === `c${comparable}`);
    };
    // A laptop of the account claims it before anyone watches; the follower watches the account only.
    const laptop = await join(room, { keys: await keysAt(0) });
    await visibility(laptop.client, true);
    await claim(laptop, 10);
    const follower = await join(room, { keys: await keysAt(1 % SHARDS) });
    await watch(follower.client, [synod.identity]);
    await sees(follower, laptop.identity);
    // A phone that comes later and claims it is found too, with what it claims.
    const phone = await join(room, { keys: await keysAt(1 % SHARDS) });
    await allow(phone.client, [follower.identity]);
    await claim(phone, 11);
    await sees(follower, phone.identity);
    // A device that does not let the follower see it stays unseen: once the follower's shard has
    // subscribed to it (and had its answer), the laptop's next claim is the marker.
    const shy = await join(room, { keys: await keysAt(0) });
    await claim(shy, 12);
    await expect
      .poll(() =>
        runInDurableObject(stubFor(room, shy.identity), (_, state) =>
          state.storage.sql
            .exec<{ watcher: string }>('SELECT watcher FROM subscriptions')
            .toArray()
            .map((r) => r.watcher),
        ),
      )
      .toContain(follower.identity);
    const claimed = (await entry(laptop.keys, 13)).hash;
    laptop.client.send({ type: 'online', identity: laptop.identity, head: claimed });
    await until(() => follower.client.present.get(laptop.identity) === claimed, 5000, "the laptop's claim");
    expect(heardOf(follower.client, shy.identity)).toEqual([]);
    // And a device that left and comes back is seen again without a new claim (its tracked head names the account).
    phone.client.close();
    await gone(follower, phone.identity);
    const back = await join(room, { keys: phone.keys });
    await allow(back.client, [follower.identity]);
    await sees(follower, phone.identity);
    await leaveAll([laptop, follower, shy, back]);
  });

  it('a reconnect storm settles to the right presence everywhere', async () => {
    const room = roomName('storm');
    const n = 40;
    const keys = await Promise.all(Array.from({ length: n }, (_, i) => keysAt(i % SHARDS)));
    const everyone = keys.map((k) => k.identity);
    const connect = async (i: number) => {
      const s = await join(room, { keys: keys[i]! });
      // Half of them let anyone see them, the other half only the next four.
      if (i % 2 === 0) await visibility(s.client, true);
      else
        await allow(
          s.client,
          [1, 2, 3, 4].map((d) => everyone[(i + d) % n]!),
        );
      await watch(s.client, everyone);
      return s;
    };
    const expected = (i: number) =>
      new Set(everyone.filter((id, j) => j !== i && (j % 2 === 0 || [1, 2, 3, 4].some((d) => (j + d) % n === i))));
    const settled = async (sessions: Session[]) => {
      for (const [i, s] of sessions.entries()) {
        await until(() => sameSet(new Set(s.client.present.keys()), expected(i)), 15_000, `client ${i} to settle`);
      }
    };
    let sessions = await Promise.all(keys.map((_, i) => connect(i)));
    await settled(sessions);
    // Everyone drops and comes back at once (a deploy restarted the room).
    for (const s of sessions) s.client.close();
    sessions = await Promise.all(keys.map((_, i) => connect(i)));
    await settled(sessions);
    await leaveAll(sessions);
  }, 60_000);
});

function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
