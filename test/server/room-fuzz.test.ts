/**
 * The room's frame handling under fast-check (issue 14): random and mutated
 * wire messages of every type, every field, from authenticated and
 * unauthenticated sockets. The cases run inside the shard (handleFrame on
 * the real Room, through sockets whose sends are recorded) so thousands fit
 * in a second or two; a few hundred more go through real sockets. Counted:
 * crashes (an `internal` error, a handler that throws), hangs (a frame not
 * handled within 2 s) and disturbances (anything at all reaching a bystander
 * that chose to be invisible, or it losing its socket): 0 of each.
 * `npm run fuzz` runs FUZZ_RUNS=100000.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import spec from '../../docs/protocol.md?raw';
import { newChallenge, WIRE_TYPES, type Identity } from '../../src/protocol/index.ts';
import { Conn, type Attachment } from '../../src/server/room/conn.ts';
import { handleFrame } from '../../src/server/room/dispatch.ts';
import { TokenBucket } from '../../src/server/room/limits.ts';
import type { Room } from '../../src/server/room.ts';
import { until } from '../support/room-client.ts';
import { endpointOf, identityAt, join, keysAt, leaveAll, open, roomName, settleRooms, stubOf } from './room-helpers.ts';

afterAll(settleRooms);

const RUNS = Number(env.FUZZ_RUNS) || 2000;
const examples = [...spec.matchAll(/```json wire\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);

/** A socket inside the shard whose frames out are recorded; `closed` once the room closes it. */
class FakeSocket {
  readonly sent: string[] = [];
  closedWith: number | null = null;
  #att: unknown = null;
  send(text: string) {
    this.sent.push(text);
  }
  close(code?: number) {
    this.closedWith = code ?? 1000;
  }
  serializeAttachment(att: unknown) {
    this.#att = structuredClone(att);
  }
  deserializeAttachment() {
    return this.#att;
  }
}

const json = fc.jsonValue({ maxDepth: 4 });
/** Values a field may take: the pools of every example's fields, and anything. */
const anyValue = (pool: unknown[]) => fc.oneof(fc.constantFrom(...pool), json, fc.string(), fc.integer(), fc.constant(null));

function frameArbitrary(bystander: Identity, members: Identity[]): fc.Arbitrary<string> {
  const pool = [...new Set(examples.flatMap((e) => Object.values(e)).map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v) as unknown);
  pool.push(bystander, ...members, [bystander], members, 'x'.repeat(70_000));
  const example = fc.constantFrom(...examples);
  const mutated = fc
    .tuple(
      example,
      fc.array(fc.tuple(fc.constantFrom('set', 'delete', 'add', 'retype'), fc.string({ maxLength: 12 }), anyValue(pool)), { maxLength: 4 }),
    )
    .map(([base, edits]) => {
      const msg: Record<string, unknown> = { ...base };
      const keys = Object.keys(msg);
      for (const [op, name, value] of edits) {
        const key = keys.length > 0 ? keys[Math.abs(name.length * 7919) % keys.length]! : name;
        if (op === 'set') msg[key] = value;
        else if (op === 'delete') delete msg[key];
        else if (op === 'add') msg[name] = value;
        else msg.type = typeof value === 'string' && value.length % 2 === 0 ? WIRE_TYPES[value.length % WIRE_TYPES.length] : value;
      }
      return JSON.stringify(msg);
    });
  const targeted = fc
    .tuple(
      fc.constantFrom(...WIRE_TYPES),
      fc.dictionary(
        fc.constantFrom('to', 'identity', 'identities', 'add', 'remove', 'id', 're', 'payload', 'hashes', 'entry', 'head'),
        anyValue(pool),
      ),
    )
    .map(([type, fields]) => JSON.stringify({ type, ...fields }));
  const deep = fc
    .integer({ min: 1, max: 30_000 })
    .map((n) => `{"type":"message_to","to":"${bystander}","payload":${'['.repeat(n)}${']'.repeat(n)}}`);
  const text = fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 }), fc.constantFrom('', '{', 'null', '[]', '{"type":"ping"}'));
  const truncated = fc.tuple(mutated, fc.nat()).map(([t, n]) => t.slice(0, n % (t.length + 1)));
  return fc.oneof(
    { weight: 5, arbitrary: mutated },
    { weight: 3, arbitrary: targeted },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: text },
    { weight: 1, arbitrary: truncated },
  );
}

interface Tally {
  cases: number;
  crashes: string[];
  hangs: string[];
}

describe('frame fuzz', () => {
  it(`${RUNS} random and mutated frames from signed-in and new sockets: no crash, no hang, no bystander disturbed`, async () => {
    const room = roomName('fuzz');
    const bystanderKeys = await keysAt(0);
    const bystander = await join(room, { keys: bystanderKeys });
    const members = Array.from({ length: 4 }, () => identityAt(0));
    const frames = frameArbitrary(bystander.identity, members);
    // The room logs what it could not handle (a failed handler, a relay to another shard that threw): each is a crash.
    const logged: string[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => {
      logged.push(args.map(String).join(' ').slice(0, 300));
    };
    const tally: Tally = await runInDurableObject(stubOf(room, 0), async (r: Room) => {
      const t: Tally = { cases: 0, crashes: [], hangs: [] };
      const make = (authed: boolean, i: number): Conn => {
        const ws = new FakeSocket();
        const identity = members[i % members.length]!;
        const att: Attachment = authed
          ? { v: 1, phase: 'requested', connectedAt: Date.now(), identity, head: null, sid: crypto.randomUUID() }
          : {
              v: 1,
              phase: 'hello',
              connectedAt: Date.now(),
              endpoint: endpointOf(room),
              serverChallenge: newChallenge(),
              routed: identity,
              sid: crypto.randomUUID(),
            };
        const conn = new Conn(ws as unknown as WebSocket, att, Date.now());
        // The rate limit would turn most cases into rate_limited: the fuzz is of what lies behind it.
        (conn as { bucket: TokenBucket }).bucket = new TokenBucket(1e9, 1e9, Date.now());
        if (authed) {
          r.join(conn);
          // Seen by and open to anyone, so relayed frames reach the fuzzing sockets themselves.
          r.watchers.visibility(identity, { anyone: true, strangers: true });
        }
        return conn;
      };
      const conns = [make(true, 0), make(true, 1), make(false, 2), make(false, 3)];
      await fc.assert(
        fc.asyncProperty(frames, fc.nat({ max: conns.length - 1 }), async (frame, which) => {
          t.cases++;
          let conn = conns[which]!;
          if (conn.closed || (conn.ws as unknown as FakeSocket).closedWith !== null) conn = conns[which] = make(which < 2, which + t.cases);
          const ws = conn.ws as unknown as FakeSocket;
          const before = ws.sent.length;
          let timer: ReturnType<typeof setTimeout> | undefined;
          const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), 2000)));
          try {
            const outcome = await Promise.race([Promise.resolve(handleFrame(r, conn, frame)).then(() => 'done' as const), hang]);
            if (outcome === 'hang') t.hangs.push(frame.slice(0, 200));
          } catch (err) {
            t.crashes.push(`${String(err)}: ${frame.slice(0, 200)}`);
          } finally {
            clearTimeout(timer);
          }
          for (const out of ws.sent.slice(before)) if (out.includes('"code":"internal"')) t.crashes.push(`${out}: ${frame.slice(0, 200)}`);
        }),
        { numRuns: RUNS },
      );
      for (const c of conns) if (!c.closed) r.close(c, 1000, 'fuzz done');
      return t;
    });
    // Messages relayed elsewhere finish after their frame: give the bystander's shard a beat, then look.
    bystander.client.send({ type: 'ping', id: 'after' });
    await bystander.client.next('pong', (m) => m.re === 'after');
    console.error = consoleError;
    tally.crashes.push(...logged);
    const disturbed = bystander.client.inbox.length + (bystander.client.isClosed ? 1 : 0) + bystander.client.invalid.length;
    console.log(
      `fuzz: ${tally.cases} cases, crashes ${tally.crashes.length}, hangs ${tally.hangs.length}, other clients disturbed ${disturbed}`,
    );
    expect(tally.crashes).toEqual([]);
    expect(tally.hangs).toEqual([]);
    expect(bystander.client.inbox).toEqual([]);
    expect(bystander.client.isClosed).toBe(false);
    await leaveAll([bystander]);
  }, 600_000);

  it('a few hundred through real sockets, signed in and not: the room answers, a bystander hears nothing', async () => {
    const room = roomName('fuzz-real');
    const bystander = await join(room, { keys: await keysAt(0) });
    const frames = fc.sample(frameArbitrary(bystander.identity, [bystander.identity]), 300);
    let sent = 0;
    for (let i = 0; i < frames.length; i += 30) {
      const signedIn = (await join(room)).client;
      const fresh = await open(room);
      for (const [k, frame] of frames.slice(i, i + 30).entries()) {
        const target = k % 2 ? signedIn : fresh;
        if (!target.isClosed) target.send(frame);
        sent++;
      }
      for (const c of [signedIn, fresh]) {
        if (c.isClosed) continue;
        c.send({ type: 'ping', id: 'alive' });
        await until(() => c.isClosed || c.inbox.some((m) => m.type === 'pong' && m.re === 'alive'), 10_000, 'an answer or a close');
        expect(c.inbox.filter((m) => m.type === 'error' && m.code === 'internal')).toEqual([]);
        c.close();
      }
    }
    expect(sent).toBe(300);
    bystander.client.send({ type: 'ping', id: 'after' });
    await bystander.client.next('pong', (m) => m.re === 'after');
    expect(bystander.client.inbox).toEqual([]);
    await leaveAll([bystander]);
  }, 120_000);
});
