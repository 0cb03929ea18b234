/** The privacy choices: off by default, what they tell a room, and the WebRTC settings under "Hide my address". */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/peer/memory-store.ts';
import { hasTurn, loadPrivacy, PRIVACY_DEFAULTS, rtcUnder, savePrivacy, visibilityOf } from '../../src/peer/privacy.ts';

const TURN: RTCIceServer = { urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'u', credential: 'c' };
const STUN: RTCIceServer = { urls: 'stun:127.0.0.1:3478' };

describe('privacy choices', () => {
  it('are all off until chosen, and kept', async () => {
    const store = new MemoryStore();
    expect(await loadPrivacy(store)).toEqual({ seenByAnyone: false, strangersMayMessage: false, hideAddress: false, pub: false });
    await savePrivacy(store, { ...PRIVACY_DEFAULTS, hideAddress: true });
    expect((await loadPrivacy(store)).hideAddress).toBe(true);
  });

  it('tell the room the two opt-ins; a pub must be seen and reached by strangers', () => {
    expect(visibilityOf(PRIVACY_DEFAULTS)).toEqual({ anyone: false, strangers: false });
    expect(visibilityOf({ ...PRIVACY_DEFAULTS, seenByAnyone: true })).toEqual({ anyone: true, strangers: false });
    expect(visibilityOf({ ...PRIVACY_DEFAULTS, strangersMayMessage: true })).toEqual({ anyone: false, strangers: true });
    expect(visibilityOf({ ...PRIVACY_DEFAULTS, pub: true })).toEqual({ anyone: true, strangers: true });
  });

  it('"Hide my address": TURN only when there is a relay, no WebRTC at all when there is none', () => {
    const withTurn = { iceServers: [STUN, TURN] };
    const stunOnly = { iceServers: [STUN] };
    expect(hasTurn(withTurn.iceServers)).toBe(true);
    expect(hasTurn(stunOnly.iceServers)).toBe(false);
    // Off: untouched (positive control for the two below).
    expect(rtcUnder(PRIVACY_DEFAULTS, withTurn)).toEqual(withTurn);
    expect(rtcUnder(PRIVACY_DEFAULTS, stunOnly)).toEqual(stunOnly);
    const hidden = { ...PRIVACY_DEFAULTS, hideAddress: true };
    expect(rtcUnder(hidden, withTurn)).toEqual({ ...withTurn, iceTransportPolicy: 'relay' });
    expect(rtcUnder(hidden, stunOnly)).toBeNull();
  });
});
