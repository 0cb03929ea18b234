/**
 * Sending one Web Push (RFC 8030) with `@block65/webcrypto-web-push`: the
 * payload encrypted to the browser's keys (RFC 8291, aes128gcm, padded to
 * 4096 bytes so its length says nothing), VAPID-signed (RFC 8292) with the
 * deployment's key. A push service that answers 404 or 410 has dropped the
 * subscription: every row for that endpoint goes.
 */
import { buildPushPayload } from '@block65/webcrypto-web-push';
import type { PushPayload } from '../../protocol/index.ts';
import { PUSH_LIMITS, type Vapid } from './config.ts';
import { forget, type Subscription } from './subscriptions.ts';

export type Sent = 'sent' | 'gone' | 'failed';

export interface SendOptions {
  /** RFC 8030 §5.2 TTL, §5.3 Urgency, §5.4 Topic (a newer push of one topic replaces an undelivered one). */
  ttl: number;
  urgency: 'normal' | 'high';
  topic: string;
}

export async function sendPush(db: D1Database, vapid: Vapid, sub: Subscription, payload: PushPayload, opts: SendOptions): Promise<Sent> {
  let request;
  try {
    request = await buildPushPayload(
      { data: payload, options: { ttl: opts.ttl, urgency: opts.urgency, topic: opts.topic } },
      { endpoint: sub.endpoint, expirationTime: null, keys: { p256dh: sub.p256dh, auth: sub.auth } },
      vapid,
    );
  } catch (err) {
    // Keys that do not import were refused at registration; a bad VAPID key is the operator's to fix.
    console.error('push: could not build a push', (err as Error).message);
    return 'failed';
  }
  let status: number;
  try {
    const res = await fetch(sub.endpoint, { ...request, signal: AbortSignal.timeout(PUSH_LIMITS.sendTimeoutMs) });
    status = res.status;
    await res.body?.cancel();
  } catch (err) {
    console.log('push: the push service did not answer', (err as Error).message);
    return 'failed';
  }
  if (status === 404 || status === 410) {
    await forget(db, sub.endpoint);
    return 'gone';
  }
  if (status < 200 || status >= 300) {
    console.log(`push: the push service answered ${status}`);
    return 'failed';
  }
  return 'sent';
}
