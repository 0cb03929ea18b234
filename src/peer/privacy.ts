/**
 * The person's privacy choices, kept per device in the store. All off by
 * default: nobody but the people you follow and your own devices sees you
 * online or reaches you through a room, and WebRTC may use your address.
 */
import type { RtcOptions } from './rtc-channel.ts';
import type { Store } from './store.ts';

export interface Privacy {
  /** "Anyone may see me online": the room shows this device's presence to whoever watches it (`visibility.anyone`). */
  readonly seenByAnyone: boolean;
  /** "Accept messages from strangers": identities not on the allow-list may reach this device by `message_to` (`visibility.strangers`). */
  readonly strangersMayMessage: boolean;
  /** "Hide my address": WebRTC only through TURN (`iceTransportPolicy: 'relay'`), else the room relay only; calls too. */
  readonly hideAddress: boolean;
  /** "Serve strangers" (be a pub): provide `pub`, be seen and messaged by anyone, and accept strangers' links. */
  readonly pub: boolean;
}

export const PRIVACY_DEFAULTS: Privacy = { seenByAnyone: false, strangersMayMessage: false, hideAddress: false, pub: false };

const SETTING = 'privacy';

export async function loadPrivacy(store: Store): Promise<Privacy> {
  return { ...PRIVACY_DEFAULTS, ...((await store.getSetting<Partial<Privacy>>(SETTING)) ?? {}) };
}

export async function savePrivacy(store: Store, privacy: Privacy): Promise<void> {
  await store.putSetting(SETTING, privacy);
}

/** The room opt-ins (docs/protocol.md §13.8 rule 6) these choices make: a pub must be seen and reached by strangers. */
export function visibilityOf(p: Privacy): { anyone: boolean; strangers: boolean } {
  return { anyone: p.seenByAnyone || p.pub, strangers: p.strangersMayMessage || p.pub };
}

/** Whether the ICE servers include a TURN relay. */
export const hasTurn = (servers: readonly RTCIceServer[]): boolean =>
  servers.some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/i.test(String(u))));

/**
 * The WebRTC settings to use under these choices, or null when WebRTC must
 * not be used: hiding the address without a TURN relay leaves only the room
 * relay (for data; a call cannot be made then).
 */
export function rtcUnder(p: Privacy, options: RtcOptions): RtcOptions | null {
  if (!p.hideAddress) return options;
  if (!hasTurn(options.iceServers)) return null;
  return { ...options, iceTransportPolicy: 'relay' };
}
