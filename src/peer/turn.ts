/**
 * ICE servers for WebRTC: TURN credentials minted by our endpoint for our
 * identity (GET /api/turn, a signed request), refreshed before they expire.
 * Without a TURN server the endpoint says so (`configured: false`, a normal
 * answer, not an error) and links use host/STUN candidates only (and the
 * room relay when those fail).
 */
import { signRequest, type KeyPair } from '../protocol/index.ts';
import type { RtcOptions } from './rtc-channel.ts';

export interface IceConfig extends RtcOptions {
  /** Whether a TURN relay is among the servers. */
  readonly turn: boolean;
  /** Why there is no TURN server, when there is none. */
  readonly note?: string;
}

const TURN_PATH = '/api/turn';
/** Refresh when this share of the lifetime has passed, so a call never starts on stale credentials. */
const REFRESH_AT = 0.8;

export class TurnCredentialSource {
  #cached: { config: IceConfig; refreshAt: number } | null = null;
  #pending: Promise<IceConfig> | null = null;

  constructor(
    private readonly origin: string,
    private readonly keys: KeyPair,
    private readonly extra: { stun?: string[]; policy?: RTCIceTransportPolicy } = {},
  ) {}

  /** Current ICE settings; fetches or refreshes credentials as needed. */
  async get(now = Date.now()): Promise<IceConfig> {
    if (this.#cached && now < this.#cached.refreshAt) return this.#cached.config;
    this.#pending ??= this.#fetch(now).finally(() => (this.#pending = null));
    return this.#pending;
  }

  async #fetch(now: number): Promise<IceConfig> {
    const stun: RTCIceServer[] = this.extra.stun?.length ? [{ urls: this.extra.stun }] : [];
    const base = { iceServers: stun, ...(this.extra.policy && { iceTransportPolicy: this.extra.policy }) };
    try {
      const headers = await signRequest(this.keys, { method: 'GET', path: TURN_PATH, time: now, length: 0 });
      const res = await fetch(`${this.origin}${TURN_PATH}`, { headers });
      const body = (await res.json()) as {
        configured?: boolean;
        iceServers?: RTCIceServer[];
        expires?: number;
        error?: { code: string; message: string };
      };
      if (res.ok && body.configured === false) {
        const config: IceConfig = { ...base, turn: false, note: 'this server has no TURN relay' };
        this.#cached = { config, refreshAt: now + 5 * 60_000 };
        return config;
      }
      if (!res.ok || !body.iceServers?.length || typeof body.expires !== 'number') {
        const config: IceConfig = { ...base, turn: false, note: body.error?.message ?? `TURN unavailable (${res.status})` };
        this.#cached = { config, refreshAt: now + 5 * 60_000 };
        return config;
      }
      const config: IceConfig = { ...base, iceServers: [...stun, ...body.iceServers], turn: true };
      this.#cached = { config, refreshAt: now + (body.expires - now) * REFRESH_AT };
      return config;
    } catch (err) {
      // Unreachable endpoint: try again soon, meanwhile host candidates and the relay still work.
      const config: IceConfig = { ...base, turn: false, note: `TURN credentials could not be fetched: ${(err as Error).message}` };
      this.#cached = { config, refreshAt: now + 30_000 };
      return config;
    }
  }
}
