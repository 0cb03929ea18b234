/**
 * The room's operator settings (wrangler.toml [vars]; docs/hosted.md,
 * "Running a public endpoint"): socket budgets, the idle rule and how long
 * the room keeps a head nobody asks about. Each is a positive whole number;
 * a missing or malformed one falls back to its default, so a typo never
 * opens a limit wider than the default.
 */
export interface RoomSettings {
  /** Authenticated sockets per shard (ROOM_MAX_SOCKETS). */
  readonly maxSockets: number;
  /** Sockets per shard from one client address, closing ones included (ROOM_SOCKETS_PER_ADDRESS). */
  readonly socketsPerAddress: number;
  /** Sockets per shard from one client address that have not authenticated yet (ROOM_PENDING_PER_ADDRESS). */
  readonly pendingPerAddress: number;
  /** Sockets of one identity (ROOM_SOCKETS_PER_IDENTITY); an identity's sockets are all at its home shard. */
  readonly socketsPerIdentity: number;
  /** A socket that sends nothing and answers no ping for this long is closed (ROOM_IDLE_SECONDS). */
  readonly idleMs: number;
  /** A tracked head nobody present, watching or announcing has touched for this long is forgotten (ROOM_HEAD_TTL_DAYS). */
  readonly headTtlMs: number;
}

export type RoomSettingsEnv = Partial<
  Record<
    | 'ROOM_MAX_SOCKETS'
    | 'ROOM_SOCKETS_PER_ADDRESS'
    | 'ROOM_PENDING_PER_ADDRESS'
    | 'ROOM_SOCKETS_PER_IDENTITY'
    | 'ROOM_IDLE_SECONDS'
    | 'ROOM_HEAD_TTL_DAYS',
    string
  >
>;

export const ROOM_DEFAULTS = {
  ROOM_MAX_SOCKETS: 2048,
  ROOM_SOCKETS_PER_ADDRESS: 256,
  ROOM_PENDING_PER_ADDRESS: 16,
  ROOM_SOCKETS_PER_IDENTITY: 8,
  ROOM_IDLE_SECONDS: 120,
  ROOM_HEAD_TTL_DAYS: 30,
} as const;

function positive(env: RoomSettingsEnv, name: keyof typeof ROOM_DEFAULTS): number {
  const text = env[name];
  return text !== undefined && /^\d{1,9}$/.test(text.trim()) && Number(text) > 0 ? Number(text) : ROOM_DEFAULTS[name];
}

export function roomSettings(env: RoomSettingsEnv): RoomSettings {
  return {
    maxSockets: positive(env, 'ROOM_MAX_SOCKETS'),
    socketsPerAddress: positive(env, 'ROOM_SOCKETS_PER_ADDRESS'),
    pendingPerAddress: positive(env, 'ROOM_PENDING_PER_ADDRESS'),
    socketsPerIdentity: positive(env, 'ROOM_SOCKETS_PER_IDENTITY'),
    idleMs: positive(env, 'ROOM_IDLE_SECONDS') * 1000,
    headTtlMs: positive(env, 'ROOM_HEAD_TTL_DAYS') * 86_400_000,
  };
}
