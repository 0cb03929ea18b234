/** Frames relayed through a room: packed into few messages, paced below the room's rate, in order, the close last. */
import { describe, expect, it } from 'vitest';
import { asPeerSignal, RelayChannel, type SignalSender } from '../../src/peer/relay-channel.ts';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { unpack } from '../../src/peer/relay-packing.ts';
import { generateKeyPair, LIMITS, parseSignal, toBase64url, type Identity } from '../../src/protocol/index.ts';
import { eventually } from './helpers.ts';

/** A room that hands each payload to the other end's channel, and counts them. */
function room(): { sender: SignalSender; payloads: unknown[]; to: (channel: RelayChannel) => void } {
  const payloads: unknown[] = [];
  let far: RelayChannel | null = null;
  return {
    payloads,
    to: (channel) => (far = channel),
    sender: {
      sendTo(_identity: Identity, payload: unknown) {
        payloads.push(payload);
        const signal = asPeerSignal(payload);
        queueMicrotask(() => signal && far?.receive(signal));
        return true;
      },
    },
  };
}

async function pair() {
  const [a, b] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  const r = room();
  const near = new RelayChannel(r.sender, b.identity);
  const far = new RelayChannel({ sendTo: () => true }, a.identity);
  r.to(far);
  const got: string[] = [];
  let closed: string | null = null;
  far.read((f) => got.push(f));
  far.onClose = (why) => (closed = why);
  return { near, payloads: r.payloads, got, closed: () => closed };
}

describe('the room relay', () => {
  it('packs frames sent together into one message, each a valid signal', async () => {
    const { near, payloads, got } = await pair();
    const frames = Array.from({ length: 10 }, (_, i) => JSON.stringify({ type: 'ping', id: `p${i}` }));
    for (const f of frames) near.send(f);
    await eventually(() => got.length === 10);
    expect(got).toEqual(frames);
    expect(payloads).toHaveLength(1);
    expect(parseSignal(payloads[0]).ok).toBe(true);
    expect(Object.keys(payloads[0] as object)).toEqual(['ch', 'ms']);
  });

  it('keeps each message within the payload limit, and paces a long run after a burst, in order', async () => {
    const { near, payloads, got } = await pair();
    // Incompressible frames: one a message, so the pace shows.
    const noise = (n: number) => toBase64url(crypto.getRandomValues(new Uint8Array((n * 3) / 4)));
    const big = (i: number) => JSON.stringify({ type: 'ping', id: `p${i}`, pad: noise(30_000) });
    for (let i = 0; i < 150; i++) near.send(big(i));
    await eventually(() => payloads.length > 0);
    // The burst went at once; the rest waits for the pace.
    expect(payloads.length).toBeLessThan(150);
    await eventually(() => got.length === 150, 20_000, 'the paced rest');
    expect(got.map((f) => (JSON.parse(f) as { id: string }).id)).toEqual(Array.from({ length: 150 }, (_, i) => `p${i}`));
    for (const p of payloads) expect(new TextEncoder().encode(JSON.stringify(p)).length).toBeLessThanOrEqual(LIMITS.messageBytes);
  });

  it('sends the frames still queued before saying it closed', async () => {
    const { near, got, closed } = await pair();
    for (let i = 0; i < 120; i++) near.send(JSON.stringify({ type: 'ping', id: `p${i}`, pad: 'y'.repeat(40_000) }));
    near.close('done here');
    await eventually(() => closed() !== null, 20_000, 'the close');
    expect(got).toHaveLength(120);
    expect(closed()).toBe('peer closed: done here');
  });

  it('sends a long run of JSON compressed, in fewer messages, and it arrives as sent', async () => {
    const { near, payloads, got } = await pair();
    const frames = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        type: 'entries',
        re: 'f1',
        identity: `@${'A'.repeat(43)}`,
        entries: Array(40).fill(`{"text":"note ${i}","lorem":"ipsum dolor"}`),
        more: true,
      }),
    );
    for (const f of frames) near.send(f);
    await eventually(() => got.length === frames.length);
    expect(got).toEqual(frames);
    expect(payloads.some((p) => 'z' in (p as object))).toBe(true);
    const plainMessages = Math.ceil(frames.reduce((n, f) => n + f.length, 0) / LIMITS.messageBytes);
    expect(payloads.length).toBeLessThan(plainMessages);
  });

  it('ends the link on a compressed payload that inflates past its bound, or to something other than frames', async () => {
    for (const content of [`[{"type":"ping","pad":"${' '.repeat(LIMITS.relayInflatedBytes)}"}]`, '{"not":"an array"}', 'not json']) {
      const far = new RelayChannel({ sendTo: () => true }, (await generateKeyPair()).identity);
      let why: string | null = null;
      far.onClose = (w) => (why = w);
      far.receive({ ch: 'relay', z: deflateRawSync(Buffer.from(content)).toString('base64url') });
      await eventually(() => why !== null);
      expect(why).toMatch(/not frames/);
    }
  });

  it('reads the compressed example of docs/protocol.md §13.6 as the frames of the ms example', async () => {
    const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
    const signal = (key: string) =>
      JSON.parse(doc.match(new RegExp(`^\\{"ch":"relay","${key}":.*$`, 'm'))![0]) as { ms: unknown[]; z: string };
    expect((await unpack(signal('z').z))?.map((f) => JSON.parse(f))).toEqual(signal('ms').ms);
  });
});
