/**
 * The real engine (src/peer) on IndexedDB in this profile, joined to the
 * local Worker's room for signalling as the app does; links dial WebRTC with
 * host candidates only (loopback). The store is wrapped to count the calls
 * the engine makes on it while a measurement runs.
 */
import { IdbStore } from '../../../src/peer/idb-store.ts';
import { Peer } from '../../../src/peer/peer.ts';
import type { Store } from '../../../src/peer/store.ts';
import type { Hash, Identity } from '../../../src/protocol/index.ts';
import type { BlobResult, SyncResult } from '../api.ts';

let peer: Peer | null = null;
const calls: Record<string, number> = {};

function counted(store: IdbStore): Store {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(name)] = (calls[String(name)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export function resetCalls(): void {
  for (const k of Object.keys(calls)) delete calls[k];
}

export function storeCalls(): Record<string, number> {
  return { ...calls };
}

const current = (): Peer => {
  if (!peer) throw new Error('openPeer first');
  return peer;
};

function deadline<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms / 1000} s`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e as Error)),
    );
  });
}

export async function openPeer(db: string, room: string, consent: { pub?: boolean; pubs?: string[] } = {}): Promise<string> {
  const { store } = await IdbStore.open(db);
  peer = await Peer.open({ store: counted(store), rtc: async () => ({ iceServers: [] }) });
  if (consent.pub) await peer.setPrivacy({ pub: true });
  for (const p of consent.pubs ?? []) await peer.addPub(p as Identity);
  peer.connect(room);
  return peer.identity;
}

/** Resolves with the transport of the link to `other` once there is one. */
export async function waitLink(other: string, timeoutMs: number): Promise<string> {
  const p = current();
  const now = p.links().find((l) => l.identity === other);
  if (now) return now.transport;
  const info = await deadline(
    `link to ${other}`,
    p.events.once('peer', (e) => e.identity === other && e.connected),
    timeoutMs,
  );
  return info.transport;
}

export async function syncFrom(author: string, head: string, timeoutMs: number): Promise<SyncResult> {
  const p = current();
  resetCalls();
  let progressEvents = 0;
  const offSync = p.events.on('sync', () => progressEvents++);
  const arrived = p.events.once('head', (h) => h.identity === author && h.hash === head);
  const start = performance.now();
  await p.follow(author as Identity);
  await deadline('sync', arrived, timeoutMs);
  const end = performance.now();
  offSync();
  return { start, end, storeCalls: { ...calls }, progressEvents };
}

export async function addBlob(bytes: number): Promise<{ hash: string; size: number }> {
  const data = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += 65536) crypto.getRandomValues(data.subarray(at, Math.min(bytes, at + 65536)));
  return current().addBlob(data);
}

export async function fetchBlob(hash: string, size: number): Promise<BlobResult> {
  const start = performance.now();
  try {
    const got = await current().getBlob({ hash: hash as Hash, size });
    const end = performance.now();
    if (got.length !== size) return { ok: false, error: `got ${got.length} bytes, not ${size}`, start, end };
    return { ok: true, start, end };
  } catch (err) {
    return { ok: false, error: (err as Error).message, start, end: performance.now() };
  }
}

/** Leaves the database open: the engine's last writes may still be under way, and the next run uses another. */
export async function closePeer(): Promise<void> {
  peer?.close();
  peer = null;
}
