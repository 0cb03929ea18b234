/**
 * The operator's settings for a public endpoint: wrangler.toml [vars], each
 * with a default used when it is missing or not a positive whole number.
 * docs/hosted.md ("Running a public endpoint") lists them with what a
 * client sees when it reaches one. Fixed protocol-level bounds stay in
 * HOSTED_LIMITS (limits.ts).
 */
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const DAY = 24 * 3600;

/** The vars, by name, with their defaults. */
export const SETTING_DEFAULTS = {
  // ---- dropbox ----
  /** Days a drop waits for its target. */
  DROPBOX_TTL_DAYS: 14,
  /** Drops waiting that were left from one client address (all targets), and their bytes. */
  DROPS_PER_IP: 500,
  DROP_BYTES_PER_IP: 4 * MiB,
  /** Entry bytes of all drops waiting on this server. */
  DROP_BYTES_TOTAL: 512 * MiB,

  // ---- blobs ----
  /** Largest blob accepted. */
  MAX_BLOB_BYTES: 64 * MiB,
  /** Bytes of blobs stored per uploader identity (as first uploader), per client address, and in all. */
  BLOB_BYTES_PER_IDENTITY: 256 * MiB,
  BLOB_BYTES_PER_IP: 1 * GiB,
  BLOB_BYTES_TOTAL: 50 * GiB,
  /** Uploads in flight at once per identity and per client address. */
  UPLOADS_PER_IDENTITY: 4,
  UPLOADS_PER_IP: 8,
  /** An upload whose body sends nothing for this long is cut off. */
  UPLOAD_IDLE_SECONDS: 20,
  /** A body must arrive at this average rate at least (on top of a minute's grace). */
  UPLOAD_MIN_BYTES_PER_SECOND: 64 * KiB,

  // ---- data leases ----
  /** Longest lease granted; a call for longer is granted this. */
  LEASE_MAX_SECONDS: 30 * DAY,
  /** Entries and entry bytes one leased feed may hold. */
  LEASE_MAX_ENTRIES: 20_000,
  LEASE_MAX_BYTES: 16 * MiB,
  /** Live leases one session identity may hold. */
  LEASES_PER_HOLDER: 8,
  /** Leased entry bytes per client address (of the lease's last caller), and in all. */
  LEASE_BYTES_PER_IP: 128 * MiB,
  LEASE_BYTES_TOTAL: 2 * GiB,

  // ---- TURN (TURN_URLS, TURN_TTL_SECONDS: turn/config.ts) ----
  /** TURN credentials minted per identity, and per client address, in a clock hour. */
  TURN_PER_IDENTITY_HOUR: 12,
  TURN_PER_IP_HOUR: 60,
} as const;

export type SettingName = keyof typeof SETTING_DEFAULTS;
export type HostedVars = { [K in SettingName]?: string | undefined };
export type HostedSettings = { readonly [K in SettingName]: number };

/** A var as a positive whole number, or its default. */
export function setting(vars: HostedVars, name: SettingName): number {
  const n = Number(vars[name]);
  return Number.isSafeInteger(n) && n > 0 ? n : SETTING_DEFAULTS[name];
}

/** Every setting, read from the deployment's vars. */
export function hostedSettings(vars: HostedVars): HostedSettings {
  const out = {} as { [K in SettingName]: number };
  for (const name of Object.keys(SETTING_DEFAULTS) as SettingName[]) out[name] = setting(vars, name);
  return out;
}
