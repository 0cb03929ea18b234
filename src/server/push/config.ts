/**
 * The deployment's Web Push settings (docs/hosted.md §11). VAPID (RFC 8292):
 * the public key and subject are vars, the private key a Worker secret
 * (`wrangler secret put VAPID_PRIVATE_KEY`, never in the repository); make a
 * pair with `node scripts/vapid-keys.mjs`. Without all three the server
 * sends no pushes and says so (`GET /api/push` → configured: false).
 *
 * PUSH_SERVICES lists the hosts the Worker will POST to: a registered
 * endpoint must be one of them or under one (".push.example" style suffixes
 * match subdomains), so a client cannot turn the Worker into a requester of
 * arbitrary URLs. The default is the push services of today's browsers.
 */
export interface PushEnv {
  VAPID_PUBLIC_KEY?: string;
  VAPID_SUBJECT?: string;
  VAPID_PRIVATE_KEY?: string;
  PUSH_SERVICES?: string;
  PUSH_PER_TARGET_HOUR?: string;
  PUSH_PER_SENDER_HOUR?: string;
  PUSH_PER_IP_HOUR?: string;
  PUSH_REGISTRATIONS_PER_HOUR?: string;
}

/** Chrome and Edge (FCM), Firefox (autopush), Safari (Apple), Windows (WNS). */
export const DEFAULT_PUSH_SERVICES = [
  'fcm.googleapis.com',
  'updates.push.services.mozilla.com',
  '.push.apple.com',
  '.notify.windows.com',
] as const;

export const PUSH_LIMITS = {
  /** Endpoints one device may register (its browsers and profiles), and one client address in all. */
  subscriptionsPerDevice: 4,
  subscriptionsPerIp: 200,
  /** Subscriptions live this long after their last registration (devices re-register as they start). */
  subscriptionMs: 60 * 24 * 3600_000,
  /** Subscriptions one push fans out to. */
  endpointsPerPush: 16,
  /** A push service that does not answer in this long is given up on for this push. */
  sendTimeoutMs: 10_000,
  /** How long a push service keeps a push for an offline browser (RFC 8030 TTL): a message for a day, a call for a minute. */
  messageTtlSeconds: 24 * 3600,
  callTtlSeconds: 60,
} as const;

const DEFAULTS = {
  PUSH_PER_TARGET_HOUR: 30,
  PUSH_PER_SENDER_HOUR: 6,
  PUSH_PER_IP_HOUR: 120,
  PUSH_REGISTRATIONS_PER_HOUR: 20,
} as const;

export type PushRate = keyof typeof DEFAULTS;

/** A rate var as a positive whole number, or its default. */
export function pushRate(env: PushEnv, name: PushRate): number {
  const n = Number(env[name]);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULTS[name];
}

export interface Vapid {
  subject: string;
  publicKey: string;
  privateKey: string;
}

/** The VAPID keys, or null when pushes are not configured here. */
export function vapidOf(env: PushEnv): Vapid | null {
  const publicKey = env.VAPID_PUBLIC_KEY?.trim();
  const subject = env.VAPID_SUBJECT?.trim();
  const privateKey = env.VAPID_PRIVATE_KEY?.trim();
  if (!publicKey || !subject || !privateKey) return null;
  return { publicKey, subject, privateKey };
}

/** The hosts pushes may go to. */
export function pushServices(env: PushEnv): string[] {
  const listed = env.PUSH_SERVICES?.split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return listed?.length ? listed : [...DEFAULT_PUSH_SERVICES];
}

/** Whether an endpoint URL is at one of the push services (a host, or a host under a ".suffix"). */
export function allowedEndpoint(endpoint: string, services: readonly string[]): boolean {
  let host: string;
  try {
    const u = new URL(endpoint);
    if (u.protocol !== 'https:') return false;
    host = u.host.toLowerCase();
  } catch {
    return false;
  }
  return services.some((s) => (s.startsWith('.') ? host.endsWith(s) && host.length > s.length : host === s));
}
