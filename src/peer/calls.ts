/**
 * Voice and video calls between two identities that trust each other: each
 * follows the other (the callee checks that it follows the caller's synod and
 * that the caller's replicated feeds hold a `follow` of its own synod) and
 * each has the other on its local "who may call me" list. A call from anyone
 * else is refused without ringing. Offer, answer and ICE candidates travel
 * through the room as `message_to` payloads tagged `{ch:'call'}`, next to the
 * data-channel negotiation (`ch:'rtc'`) and the relay (`ch:'relay'`); the
 * media goes over an RTCPeerConnection with the same ICE servers (TURN
 * included) as data links.
 */
import { parseSignal, type CallSignal, type Identity } from '../protocol/index.ts';
import * as permission from './call-permission.ts';
import { Emitter } from './events.ts';
import type { Peer } from './peer.ts';
import { rtcUnder } from './privacy.ts';
import type { RoomClient } from './room-client.ts';
import type { RtcOptions } from './rtc-channel.ts';

export { PERMITTED_SETTING } from './call-permission.ts';

export type { CallSignal };

/** The call signal in a message_from payload (docs/protocol.md §13.6), or null. */
export function asCallSignal(payload: unknown): CallSignal | null {
  const parsed = parseSignal(payload);
  return parsed.ok && parsed.value.ch === 'call' ? parsed.value : null;
}

export type CallState = 'calling' | 'ringing' | 'connecting' | 'active' | 'ended';

export interface CallInfo {
  readonly id: string;
  /** The other side's device identity, and the synod (person) it belongs to. */
  readonly device: Identity;
  readonly person: Identity | null;
  readonly outgoing: boolean;
  readonly video: boolean;
  state: CallState;
  /** Why it ended. */
  reason?: string;
  muted: boolean;
  cameraOff: boolean;
  local: MediaStream | null;
  remote: MediaStream | null;
  /** performance.now() when the call was placed (caller side), for measurements. */
  readonly startedAt: number;
}

export interface CallEvents {
  /** Any change of the current call (state, streams, mute). */
  call: CallInfo;
  /** A call that was refused without ringing, and why. */
  refused: { device: Identity; reason: string };
}

export interface CallOptions {
  /** ICE servers, as for data links. */
  rtc: () => Promise<RtcOptions>;
  /** Local media; by default getUserMedia. */
  media?: (video: boolean) => Promise<MediaStream>;
}

export class Calls {
  readonly events = new Emitter<CallEvents>();
  current: CallInfo | null = null;
  #pc: RTCPeerConnection | null = null;
  #room: RoomClient | null = null;
  #offer: string | null = null;
  #pending: RTCIceCandidateInit[] = [];
  #remoteSet = false;
  #attached = new WeakSet<RoomClient>();

  constructor(
    private readonly peer: Peer,
    private readonly options: CallOptions,
  ) {
    const attachAll = () => {
      for (const room of peer.mesh.rooms.values()) this.#attach(room);
    };
    peer.mesh.events.on('room', attachAll);
    attachAll();
  }

  #attach(room: RoomClient): void {
    if (this.#attached.has(room)) return;
    this.#attached.add(room);
    room.events.on('message', ({ from, payload }) => {
      const signal = asCallSignal(payload);
      if (signal)
        void this.#signal(room, from, signal).catch((err: Error) =>
          this.peer.mesh.events.emit('log', `call signal from ${from}: ${err.message}`),
        );
    });
    // A callee who was not here (the room woke them with a push) rings once their app is back in the room.
    room.events.on('presence', ({ identity, online }) => {
      const info = this.current;
      if (!online || !info?.outgoing || info.state !== 'calling' || info.device !== identity) return;
      const sdp = this.#pc?.localDescription?.sdp;
      if (!sdp) return;
      this.#room = room;
      this.#send({ op: 'offer', sdp, video: info.video });
    });
  }

  // --- who may call -------------------------------------------------------

  permitted(): Promise<Identity[]> {
    return permission.permitted(this.peer);
  }

  setPermitted(person: Identity, allowed: boolean): Promise<void> {
    return permission.setPermitted(this.peer, person, allowed);
  }

  /** The person (synod) a device belongs to, as our replica knows it. */
  personOf(device: Identity): Promise<Identity | null> {
    return permission.personOf(this.peer, device);
  }

  /** Whether a device may call us (call-permission.ts). Null when it may. */
  refusal(device: Identity): Promise<string | null> {
    return permission.refusal(this.peer, device);
  }

  // --- actions --------------------------------------------------------------

  /** Call a device that is online in one of our rooms. */
  async call(device: Identity, video = true): Promise<CallInfo> {
    if (this.current && this.current.state !== 'ended') throw new Error('already in a call');
    const person = await this.personOf(device);
    if (!person || !(await this.permitted()).includes(person)) throw new Error('only people on your list of who may call can be called');
    const room = this.#roomOf(device);
    if (!room) throw new Error('they are not online in any room we are in');
    await this.#rtc();
    const info = this.#start(crypto.randomUUID(), device, person, true, video, room);
    const pc = await this.#connection(info);
    const local = await this.#media(video);
    info.local = local;
    for (const track of local.getTracks()) pc.addTrack(track, local);
    await pc.setLocalDescription(await pc.createOffer());
    this.#send({ op: 'offer', sdp: pc.localDescription?.sdp ?? '', video });
    this.#changed();
    return info;
  }

  async accept(): Promise<void> {
    const info = this.current;
    if (!info || info.state !== 'ringing' || !this.#offer) return;
    info.state = 'connecting';
    let pc: RTCPeerConnection;
    try {
      pc = await this.#connection(info);
    } catch (err) {
      this.#send({ op: 'hangup', reason: 'cannot take calls now' });
      this.#end((err as Error).message);
      throw err;
    }
    await pc.setRemoteDescription({ type: 'offer', sdp: this.#offer });
    await this.#remoteDescribed();
    const local = await this.#media(info.video);
    info.local = local;
    for (const track of local.getTracks()) pc.addTrack(track, local);
    await pc.setLocalDescription(await pc.createAnswer());
    this.#send({ op: 'answer', sdp: pc.localDescription?.sdp ?? '' });
    this.#changed();
  }

  decline(): void {
    if (this.current?.state !== 'ringing') return;
    this.#send({ op: 'decline' });
    this.#end('declined');
  }

  hangUp(): void {
    if (!this.current || this.current.state === 'ended') return;
    this.#send({ op: 'hangup' });
    this.#end('hung up');
  }

  setMuted(muted: boolean): void {
    const info = this.current;
    if (!info) return;
    info.muted = muted;
    for (const t of info.local?.getAudioTracks() ?? []) t.enabled = !muted;
    this.#changed();
  }

  setCameraOff(off: boolean): void {
    const info = this.current;
    if (!info) return;
    info.cameraOff = off;
    for (const t of info.local?.getVideoTracks() ?? []) t.enabled = !off;
    this.#changed();
  }

  /** The connection, for stats (tests, the UI's quality line). */
  connection(): RTCPeerConnection | null {
    return this.#pc;
  }

  // --- internals ----------------------------------------------------------

  /** A room where the device is present to us (it lets us see it, docs/protocol.md §13.8), the one we are linked through first. */
  #roomOf(device: Identity): RoomClient | null {
    const linked = this.peer.links().find((l) => l.identity === device);
    const room = linked ? this.peer.mesh.rooms.get(linked.room) : undefined;
    if (room?.status === 'online') return room;
    for (const r of this.peer.mesh.rooms.values()) if (r.status === 'online' && r.present.has(device)) return r;
    return null;
  }

  #start(id: string, device: Identity, person: Identity | null, outgoing: boolean, video: boolean, room: RoomClient): CallInfo {
    this.#room = room;
    this.#pending = [];
    this.#remoteSet = false;
    this.#offer = null;
    const info: CallInfo = {
      id,
      device,
      person,
      outgoing,
      video,
      state: outgoing ? 'calling' : 'ringing',
      muted: false,
      cameraOff: false,
      local: null,
      remote: null,
      startedAt: performance.now(),
    };
    this.current = info;
    return info;
  }

  async #media(video: boolean): Promise<MediaStream> {
    return this.options.media ? this.options.media(video) : navigator.mediaDevices.getUserMedia({ audio: true, video });
  }

  /** ICE settings under the privacy choices: with the address hidden, only through TURN, and no call without it. */
  async #rtc(): Promise<RtcOptions> {
    const rtc = rtcUnder(this.peer.privacy(), await this.options.rtc());
    if (!rtc) throw new Error('“Hide my address” is on and this server has no TURN relay, so a call would show your address');
    return rtc;
  }

  async #connection(info: CallInfo): Promise<RTCPeerConnection> {
    const rtc = await this.#rtc();
    const pc = new RTCPeerConnection({ iceServers: rtc.iceServers, iceTransportPolicy: rtc.iceTransportPolicy ?? 'all' });
    this.#pc = pc;
    pc.onicecandidate = (e) => e.candidate && this.#send({ op: 'ice', candidate: e.candidate.toJSON() });
    pc.ontrack = (e) => {
      info.remote = e.streams[0] ?? new MediaStream([e.track]);
      this.#changed();
    };
    pc.onconnectionstatechange = () => {
      if (this.current !== info) return;
      if (pc.connectionState === 'connected') {
        info.state = 'active';
        this.#changed();
      } else if (pc.connectionState === 'failed') {
        this.#send({ op: 'hangup', reason: 'connection failed' });
        this.#end('connection failed');
      }
    };
    return pc;
  }

  async #remoteDescribed(): Promise<void> {
    this.#remoteSet = true;
    for (const c of this.#pending.splice(0)) await this.#pc?.addIceCandidate(c);
  }

  #send(body: Record<string, unknown>): void {
    const info = this.current;
    if (!info || !this.#room) return;
    this.#room.sendTo(info.device, { ch: 'call', id: info.id, ...body });
  }

  #end(reason: string): void {
    const info = this.current;
    if (!info) return;
    info.state = 'ended';
    info.reason = reason;
    for (const t of info.local?.getTracks() ?? []) t.stop();
    this.#pc?.close();
    this.#pc = null;
    this.#offer = null;
    this.#changed();
  }

  #changed(): void {
    if (this.current) this.events.emit('call', this.current);
  }

  async #signal(room: RoomClient, from: Identity, signal: CallSignal): Promise<void> {
    const info = this.current;
    const ours = info && info.id === signal.id && info.device === from && info.state !== 'ended';
    if (signal.op === 'offer') {
      if (info && info.state !== 'ended') {
        if (!ours) room.sendTo(from, { ch: 'call', id: signal.id, op: 'busy' });
        return;
      }
      const refusal = await this.refusal(from);
      if (refusal) {
        // Refused without ringing: the caller learns only that it was refused.
        room.sendTo(from, { ch: 'call', id: signal.id, op: 'refused' });
        this.events.emit('refused', { device: from, reason: refusal });
        return;
      }
      this.#start(signal.id, from, await this.personOf(from), false, signal.video, room);
      this.#offer = signal.sdp;
      this.#changed();
      return;
    }
    if (!ours) return;
    switch (signal.op) {
      case 'answer':
        if (!info.outgoing || !this.#pc) return;
        info.state = 'connecting';
        await this.#pc.setRemoteDescription({ type: 'answer', sdp: signal.sdp });
        await this.#remoteDescribed();
        this.#changed();
        return;
      case 'ice':
        if (this.#pc && this.#remoteSet) await this.#pc.addIceCandidate(signal.candidate);
        else this.#pending.push(signal.candidate);
        return;
      case 'decline':
        return this.#end('declined');
      case 'refused':
        return this.#end('refused');
      case 'busy':
        return this.#end('busy');
      case 'hangup':
        return this.#end(signal.reason ?? 'hung up');
    }
  }
}
