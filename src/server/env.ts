import type { HostedVars } from './hosted/settings.ts';
import type { PushEnv } from './push/config.ts';
import type { TurnEnv } from './turn/config.ts';

/** Bindings and vars declared in wrangler.toml (the operator's settings: hosted/settings.ts). */
export interface Env extends TurnEnv, PushEnv, HostedVars {
  /** The Room Durable Object (room.ts); typed loosely so this module does not depend on it. */
  ROOM: DurableObjectNamespace;
  DB: D1Database;
  BLOBS: R2Bucket;
  ASSETS: Fetcher;
}

// `env` from "cloudflare:workers" (used by tests and by code outside a
// request) is typed through this global interface.
declare global {
  namespace Cloudflare {
    interface Env extends EffigyEnv {}
  }
}
type EffigyEnv = Env;
