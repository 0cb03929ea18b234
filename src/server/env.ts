import type { HostedVars } from './hosted/settings.ts';
import type { PushEnv } from './push/config.ts';
import type { RoomSettingsEnv } from './room/settings.ts';
import type { TurnEnv } from './turn/config.ts';

/** Bindings and vars declared in wrangler.toml (the operator's settings: hosted/settings.ts, room/settings.ts). */
export interface Env extends TurnEnv, PushEnv, HostedVars, RoomSettingsEnv {
  /** The Room Durable Object (room.ts); typed loosely so this module does not depend on it. */
  ROOM: DurableObjectNamespace;
  DB: D1Database;
  BLOBS: R2Bucket;
  ASSETS: Fetcher;
  /** Who is granted datalease and dropbox collection on request (hosted/grants.ts): everyone, members or allowlist. */
  DATALEASE_GRANT?: string;
  DROPBOX_GRANT?: string;
  /** Member accounts and their lease quotas ("@synod=8 @other"), and allowed identities ("@a @b"). */
  GRANT_MEMBERS?: string;
  GRANT_ALLOW?: string;
  /** Shards (Durable Objects) per room: identities are spread over them (docs/room.md §9). */
  ROOM_SHARDS?: string;
  /** "1" turns on GET /room/:name/stats, the shards' counters, for the bench (never in wrangler.toml). */
  ROOM_STATS?: string;
}

// `env` from "cloudflare:workers" (used by tests and by code outside a
// request) is typed through this global interface.
declare global {
  namespace Cloudflare {
    interface Env extends EffigyEnv {}
  }
}
type EffigyEnv = Env;
