/**
 * When the Worker wakes a device (docs/protocol.md §15.6): a drop stored for
 * an identity (the dropbox, hosted/dropbox.ts), and a call offer to an
 * identity not in the room (signalling, room/signalling.ts). Each push goes
 * to the subscriptions registered for that identity and that kind, within
 * budgets: per target, per sender and target, and per client address of
 * the sender (rate_windows, per clock hour). Nothing is answered to the
 * sender: whether a push went, or to how many devices, is nobody's business.
 *
 * The room never reads a `message_to` payload beyond the two members that
 * say it is a call offer (`ch: "call"`, `op: "offer"`); the push names the
 * caller only inside the encrypted payload, for the device to name it if it
 * knows it.
 */
import type { Identity, PushKind, PushPayload } from '../../protocol/index.ts';
import { countEvent } from '../rate-windows.ts';
import { PUSH_LIMITS, pushRate, vapidOf, type PushEnv } from './config.ts';
import { sendPush } from './send.ts';
import { subscriptionsFor } from './subscriptions.ts';

type Bindings = PushEnv & { DB: D1Database };

/** Whether a `message_to` payload is a call offer: the only thing the room looks at in a payload. */
export function isCallOffer(payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  const p = payload as { ch?: unknown; op?: unknown };
  return p.ch === 'call' && p.op === 'offer';
}

async function wake(
  env: Bindings,
  kind: PushKind,
  target: Identity,
  sender: Identity,
  ip: string | null,
  payload: PushPayload,
  skip: ReadonlySet<Identity> = new Set(),
) {
  const vapid = vapidOf(env);
  if (!vapid) return;
  const subs = (await subscriptionsFor(env.DB, target, kind)).filter((s) => !skip.has(s.device));
  if (subs.length === 0) return;
  const rate = await countEvent(env.DB, [
    [`push:to:${target}`, pushRate(env, 'PUSH_PER_TARGET_HOUR')],
    [`push:pair:${sender}:${target}`, pushRate(env, 'PUSH_PER_SENDER_HOUR')],
    ...(ip ? [[`push:ip:${ip}`, pushRate(env, 'PUSH_PER_IP_HOUR')] as const] : []),
  ]);
  if (!rate.ok) return;
  const opts =
    kind === 'call'
      ? { ttl: PUSH_LIMITS.callTtlSeconds, urgency: 'high' as const, topic: 'call' }
      : { ttl: PUSH_LIMITS.messageTtlSeconds, urgency: 'normal' as const, topic: 'message' };
  await Promise.all(subs.map((sub) => sendPush(env.DB, vapid, sub, payload, opts)));
}

/** A drop was stored for `target`: "you have a message", to its subscriptions but those of devices just told in the room (`told`). */
export function pushForDrop(
  env: Bindings,
  target: Identity,
  sender: Identity,
  ip: string | null,
  told: ReadonlySet<Identity> = new Set(),
): Promise<void> {
  return wake(env, 'message', target, sender, ip, { v: 1, kind: 'message' }, told);
}

/** A call offer found `callee` absent: "a call", naming the caller inside the encryption only. */
export function pushForCall(env: Bindings, caller: Identity, callee: Identity, ip: string | null): Promise<void> {
  return wake(env, 'call', callee, caller, ip, { v: 1, kind: 'call', from: caller });
}
