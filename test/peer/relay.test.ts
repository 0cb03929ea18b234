/** Frames relayed through a room: packed into few messages, paced below the room's rate, in order, the close last. */
import { describe, expect, it } from 'vitest';
import { asPeerSignal, RelayChannel, type SignalSender } from '../../src/peer/relay-channel.ts';
import { generateKeyPair, LIMITS, parseSignal, type Identity } from '../../src/protocol/index.ts';
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
    const big = (i: number) => JSON.stringify({ type: 'ping', id: `p${i}`, pad: 'x'.repeat(30_000) });
    for (let i = 0; i < 150; i++) near.send(big(i));
    await eventually(() => payloads.length > 0);
    // The burst went at once; the rest waits for the pace.
    expect(payloads.length).toBeLessThan(150);
    await eventually(() => got.length === 150, 20_000, 'the paced rest');
    expect(got).toEqual(Array.from({ length: 150 }, (_, i) => big(i)));
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
});
