/** TURN configuration: URLs and TTL are vars, the secret a Worker secret (`wrangler secret put TURN_SECRET`). */
export interface TurnEnv {
  /** Comma-separated TURN URLs, e.g. "turn:turn.example:3478?transport=udp,turns:turn.example:5349". */
  TURN_URLS?: string;
  TURN_SECRET?: string;
  /** Credential lifetime in seconds, 60 to 3600 (default 600). */
  TURN_TTL_SECONDS?: string;
}

export interface TurnConfig {
  readonly urls: string[];
  readonly secret: string;
  readonly ttlSeconds: number;
}

/** Credentials live 10 minutes by default: a leaked one is of little use for long, and clients refresh at 80 %. */
const DEFAULT_TTL = 600;
const MAX_TTL = 3600;

/** Null when TURN is not configured: clients then use STUN/host candidates only, and say so. */
export function turnConfig(env: TurnEnv): TurnConfig | null {
  const urls = (env.TURN_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => /^turns?:[^\s]+$/.test(u));
  const secret = env.TURN_SECRET ?? '';
  if (urls.length === 0 || secret.length < 16) return null;
  const ttl = Number(env.TURN_TTL_SECONDS ?? DEFAULT_TTL);
  return { urls, secret, ttlSeconds: Number.isInteger(ttl) && ttl >= 60 && ttl <= MAX_TTL ? ttl : DEFAULT_TTL };
}
