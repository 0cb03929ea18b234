/** Fixtures for engine tests: peers in memory, linked by in-memory channels. */
import { memoryPair, type Channel } from '../../src/peer/channel.ts';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { Peer } from '../../src/peer/peer.ts';
import type { Identity } from '../../src/protocol/index.ts';

export const newPeer = () => Peer.open({ store: new MemoryStore() });

/** Link two peers directly; resolves when both sides have asked for their first sync. */
export async function link(a: Peer, b: Peer): Promise<[Channel, Channel]> {
  const [ca, cb] = memoryPair();
  await Promise.all([
    a.mesh.adopt(ca, { endpoint: 'memory:test', room: 'memory' }),
    b.mesh.adopt(cb, { endpoint: 'memory:test', room: 'memory' }),
  ]);
  return [ca, cb];
}

/** Poll until `check` holds (replication is asynchronous); fails the test after `ms`. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const headOf = async (peer: Peer, identity: Identity) => (await peer.replica.head(identity))?.hash;

export interface Tapped {
  /** Frames as sent, parsed, by the side that sent them. */
  frames: { from: 'a' | 'b'; message: Record<string, unknown> }[];
  /** Binary messages sent, by side. */
  binary: { from: 'a' | 'b'; bytes: number }[];
}

/** Link two peers over a memory pair that records every message; `binary: false` for a channel without binary messages. */
export async function tappedLink(
  a: Peer,
  b: Peer,
  options: {
    binary?: boolean;
    /** Close the link instead of sending this frame. */ cutAt?: (from: 'a' | 'b', message: Record<string, unknown>) => boolean;
  } = {},
): Promise<Tapped & { channels: [Channel, Channel] }> {
  const [ca, cb] = memoryPair({ ...(options.binary !== undefined && { binary: options.binary }) });
  const tap: Tapped = { frames: [], binary: [] };
  for (const [channel, from] of [
    [ca, 'a'],
    [cb, 'b'],
  ] as const) {
    const send = channel.send.bind(channel);
    channel.send = (frame: string) => {
      const message = JSON.parse(frame) as Record<string, unknown>;
      if (options.cutAt?.(from, message)) return channel.close('cut');
      tap.frames.push({ from, message });
      send(frame);
    };
    const sendBytes = channel.sendBytes.bind(channel);
    channel.sendBytes = (bytes: Uint8Array) => {
      tap.binary.push({ from, bytes: bytes.length });
      sendBytes(bytes);
    };
  }
  await Promise.all([
    a.mesh.adopt(ca, { endpoint: 'memory:test', room: 'memory' }),
    b.mesh.adopt(cb, { endpoint: 'memory:test', room: 'memory' }),
  ]);
  return { ...tap, frames: tap.frames, binary: tap.binary, channels: [ca, cb] };
}
