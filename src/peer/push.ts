/**
 * Web Push, the device's side of the server's routes (docs/protocol.md
 * §15.6): whether a server sends pushes (and its VAPID key, for the
 * browser's PushManager), and registering a subscription with a signed
 * request whose path names the body's hash. With the synod entry that added
 * this device as `member`, the server wakes it for its account's drops too.
 */
import {
  PUSH,
  pushPath,
  signRequest,
  type Identity,
  type KeyPair,
  type PushKind,
  type PushSubscribe,
  type PushUnsubscribe,
} from '../protocol/index.ts';
import type { Replica } from './replica.ts';

export interface PushConfig {
  readonly configured: boolean;
  /** The VAPID public key (base64url, 65 bytes uncompressed): PushManager.subscribe's applicationServerKey. */
  readonly publicKey?: string;
}

/** The subscription as PushSubscription.toJSON() gives it. */
export interface SubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export async function pushConfig(origin: string): Promise<PushConfig> {
  const res = await fetch(`${origin}${PUSH.path}`, { cache: 'no-store' });
  if (!res.ok) return { configured: false };
  return (await res.json()) as PushConfig;
}

async function signed(origin: string, keys: KeyPair, method: 'PUT' | 'DELETE', body: string): Promise<unknown> {
  const path = pushPath(body);
  const length = new TextEncoder().encode(body).length;
  const headers = await signRequest(keys, { method, path, time: Date.now(), length });
  const res = await fetch(`${origin}${PUSH.path}/${encodeURIComponent(path.slice(PUSH.path.length + 1))}`, {
    method,
    body,
    headers: { ...headers, 'Content-Type': 'application/json' },
  });
  const json = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!res.ok) throw new PushRefused(res.status, json?.error?.code ?? 'unknown', json?.error?.message ?? res.statusText);
  return json;
}

export class PushRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`the server refused (${status} ${code}): ${message}`);
  }
}

/** Ask `origin` to wake this device (and its account, with `member`) at the subscription's endpoint. */
export async function registerPush(
  origin: string,
  keys: KeyPair,
  subscription: SubscriptionJson,
  kinds: readonly PushKind[],
  member?: string,
): Promise<{ identities: Identity[]; kinds: PushKind[] }> {
  const body: PushSubscribe = {
    endpoint: subscription.endpoint,
    keys: { p256dh: subscription.keys.p256dh, auth: subscription.keys.auth },
    kinds: [...kinds],
    ...(member !== undefined && { member }),
  };
  return (await signed(origin, keys, 'PUT', JSON.stringify(body))) as { identities: Identity[]; kinds: PushKind[] };
}

export async function unregisterPush(origin: string, keys: KeyPair, endpoint: string): Promise<number> {
  const body: PushUnsubscribe = { endpoint };
  return ((await signed(origin, keys, 'DELETE', JSON.stringify(body))) as { removed: number }).removed;
}

/** The text of the synod entry that added `device`, when the replica holds it: the proof `member` carries. */
export async function membershipEntry(replica: Replica, device: Identity, synod: Identity | null): Promise<string | undefined> {
  const record = synod ? replica.synod(synod)?.devices.get(device) : undefined;
  if (!record || record.cut !== null) return undefined;
  return (await replica.store.getEntry(record.addedIn))?.text;
}
