import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../src/peer/channel.ts';
import { authenticate } from '../../src/peer/session.ts';
import { encodeWire, generateKeyPair, hashOf, parseWire, utf8, type WireMessage } from '../../src/protocol/index.ts';
import { eventually, headOf, link, newPeer } from './helpers.ts';

describe('a lying, flooding peer', () => {
  it('has its data dropped, is disconnected after repeated abuse, and damages nothing stored', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    await bob.follow(alice.identity);
    const real = await alice.postNote('the real thing');
    await link(alice, bob);
    await eventually(async () => (await headOf(bob, alice.identity)) === real.hash, 5000, 'honest sync');

    const mallory = await generateKeyPair();
    const [evil, good] = memoryPair();
    const adopted = bob.mesh.adopt(good, { endpoint: 'memory:test', room: 'memory' });
    await authenticate(evil, { keys: mallory, endpoint: 'memory:test', head: null });
    const fakeHead = hashOf(utf8('not an entry anyone signed'));
    const forged = real.text.replace('the real thing', 'a forged thing');
    const rejected: string[] = [];
    bob.events.on('log', (l) => rejected.push(l));
    let closed = false;
    evil.onClose = () => (closed = true);
    evil.read((frame) => {
      const m = parseWire(frame);
      if (!m.ok) return;
      const msg: WireMessage = m.value;
      const reply = (r: WireMessage) => evil.send(encodeWire({ ...r, re: msg.id } as WireMessage));
      if (msg.type === 'get_heads') reply({ type: 'last_known_heads', heads: [[alice.identity, fakeHead]] });
      if (msg.type === 'get_feed') reply({ type: 'entries', identity: alice.identity, entries: [forged] });
    });
    await adopted;
    // Lie again and again: a forged entry, garbage frames, an unknown type.
    for (let i = 0; i < 6 && !closed; i++) {
      evil.send(encodeWire({ type: 'head', identity: alice.identity, head: hashOf(utf8(`lie ${i}`)) }));
      evil.send('{not json');
      evil.send('{"type":"mystery"}');
      await new Promise((r) => setTimeout(r, 20));
    }
    await eventually(() => closed, 5000, 'bob to disconnect mallory');
    expect(rejected.some((l) => /invalid entry|signature/.test(l))).toBe(true);
    expect(await headOf(bob, alice.identity)).toBe(real.hash);
    expect((await bob.feed(alice.identity)).map((e) => e.hash)).toEqual([real.hash]);
    expect(bob.links().map((l) => l.identity)).toEqual([alice.identity]);
  });

  it('refuses a handshake signed by a key other than the identity claimed', async () => {
    const bob = await newPeer();
    const [evil, good] = memoryPair();
    const adopted = bob.mesh.adopt(good, { endpoint: 'memory:test', room: 'memory' });
    const mallory = await generateKeyPair();
    const other = await generateKeyPair();
    // Claims mallory's identity, signs with another key. The liar's own side may finish (Bob's signature is
    // good) or be cut off first, depending on which frame lands first: what matters is Bob's side.
    await authenticate(evil, { keys: { ...other, identity: mallory.identity }, endpoint: 'memory:test', head: null }).catch(
      () => undefined,
    );
    expect(await adopted).toBeNull();
    expect(bob.links()).toHaveLength(0);
    await eventually(() => evil.closed, 5000, 'Bob to close the channel of the liar');
  });
});

describe('a flooding peer', () => {
  it('is rate-limited, then disconnected, and the honest link stays up', async () => {
    const [alice, bob] = await Promise.all([newPeer(), newPeer()]);
    await link(alice, bob);
    const mallory = await generateKeyPair();
    const [evil, good] = memoryPair();
    const adopted = bob.mesh.adopt(good, { endpoint: 'memory:test', room: 'memory' });
    await authenticate(evil, { keys: mallory, endpoint: 'memory:test', head: null });
    await adopted;
    let closed = false;
    evil.onClose = () => (closed = true);
    evil.read(() => undefined);
    for (let i = 0; i < 2000 && !closed; i++) evil.send(encodeWire({ type: 'ping' }));
    await eventually(() => closed, 5000, 'the flood to be cut off');
    expect(bob.links().map((l) => l.identity)).toEqual([alice.identity]);
  });
});
