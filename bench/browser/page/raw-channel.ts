/**
 * A bare WebRTC data channel between the two profiles (signalled by the
 * driver, no engine, no room): the same bytes the engine moves, with the
 * best flow control we know — keep the send buffer between LOW and HIGH,
 * refilling on `bufferedamountlow`. This is the channel's limit in the run.
 */
import { toBase64url } from '../../../src/protocol/index.ts';

const HIGH = 4 * 1024 * 1024;
const LOW = 1024 * 1024;

let pc: RTCPeerConnection | null = null;
let dc: RTCDataChannel | null = null;
let opened: Promise<RTCDataChannel> | null = null;
/** Sent after the data: the channel is ordered, so its arrival means everything before it arrived. */
const END = 'end';
let expecting: { got: number; done: (r: { abs: number; bytes: number }) => void } | null = null;

const abs = () => performance.timeOrigin + performance.now();

async function gathered(conn: RTCPeerConnection): Promise<string> {
  if (conn.iceGatheringState !== 'complete')
    await new Promise<void>((r) => conn.addEventListener('icegatheringstatechange', () => conn.iceGatheringState === 'complete' && r()));
  return conn.localDescription!.sdp;
}

function attach(channel: RTCDataChannel): Promise<RTCDataChannel> {
  channel.binaryType = 'arraybuffer';
  channel.bufferedAmountLowThreshold = LOW;
  channel.onmessage = (e) => {
    if (!expecting) return;
    if (e.data === END) return expecting.done({ abs: abs(), bytes: expecting.got });
    expecting.got += typeof e.data === 'string' ? e.data.length : (e.data as ArrayBuffer).byteLength;
  };
  dc = channel;
  return channel.readyState === 'open' ? Promise.resolve(channel) : new Promise((r) => (channel.onopen = () => r(channel)));
}

export async function rawOffer(): Promise<string> {
  pc = new RTCPeerConnection({ iceServers: [] });
  opened = attach(pc.createDataChannel('raw', { ordered: true }));
  await pc.setLocalDescription(await pc.createOffer());
  return gathered(pc);
}

export async function rawAnswer(offer: string): Promise<string> {
  pc = new RTCPeerConnection({ iceServers: [] });
  opened = new Promise((r) => (pc!.ondatachannel = (e) => void attach(e.channel).then(r)));
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());
  return gathered(pc);
}

export async function rawAccept(answer: string): Promise<void> {
  await pc!.setRemoteDescription({ type: 'answer', sdp: answer });
  await opened;
}

let arrived: Promise<{ abs: number; bytes: number }> | null = null;

/** Receiver: count from now until the end marker (armed before the sender starts). */
export function rawArm(): void {
  arrived = new Promise((done) => (expecting = { got: 0, done }));
}

export function rawArrived(): Promise<{ abs: number; bytes: number }> {
  if (!arrived) throw new Error('rawArm first');
  return arrived;
}

async function pump(frames: Iterable<string | ArrayBuffer>, high = HIGH, low = LOW): Promise<number> {
  const channel = await opened!;
  channel.bufferedAmountLowThreshold = low;
  const start = abs();
  for (const f of frames) {
    if (channel.bufferedAmount > high) await new Promise((r) => (channel.onbufferedamountlow = r));
    channel.send(f as string);
  }
  channel.send(END);
  return start;
}

export function rawSendTexts(texts: string[], frameBytes: number): Promise<number> {
  const frames: string[] = [];
  let frame: string[] = [];
  let size = 0;
  for (const t of texts) {
    if (size + t.length + 1 > frameBytes && frame.length > 0) {
      frames.push(frame.join('\n'));
      frame = [];
      size = 0;
    }
    frame.push(t);
    size += t.length + 1;
  }
  if (frame.length) frames.push(frame.join('\n'));
  return pump(frames);
}

export function rawSendBinary(bytes: number, chunkBytes: number): Promise<number> {
  const chunk = crypto.getRandomValues(new Uint8Array(Math.min(chunkBytes, 65536)));
  const whole = new Uint8Array(chunkBytes);
  for (let at = 0; at < chunkBytes; at += chunk.length) whole.set(chunk.subarray(0, chunkBytes - at), at);
  function* chunks() {
    for (let sent = 0; sent < bytes; sent += chunkBytes) yield whole.buffer.slice(0, Math.min(chunkBytes, bytes - sent));
  }
  return pump(chunks());
}

/** src/peer/rtc-channel.ts HIGH_WATER and LOW_WATER, and LIMITS.blobChunkBytes. */
const ENGINE_HIGH = 1024 * 1024;
const ENGINE_LOW = 256 * 1024;
const ENGINE_CHUNK = 32 * 1024;

export function rawSendBlobFrames(bytes: number): Promise<number> {
  const data = toBase64url(crypto.getRandomValues(new Uint8Array(ENGINE_CHUNK)));
  const hash = 'x'.repeat(44);
  function* frames() {
    for (let offset = 0; offset < bytes; offset += ENGINE_CHUNK)
      yield JSON.stringify({ type: 'blob', re: 'b1', hash, offset, total: bytes, data });
  }
  return pump(frames(), ENGINE_HIGH, ENGINE_LOW);
}
