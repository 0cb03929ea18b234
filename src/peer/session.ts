/**
 * The design's Startup sequence over any channel, symmetric for both ends:
 * each sends session_request [identity, head, challenge], signs the other's
 * challenge (session_auth), and verifies the other's signature. Nothing else
 * is accepted before both are done.
 */
import {
  encodeWire,
  newChallenge,
  parseWire,
  signSession,
  verifySession,
  type Hash,
  type Identity,
  type KeyPair,
  type WireOf,
} from '../protocol/index.ts';
import type { Channel } from './channel.ts';

export interface SessionOptions {
  keys: KeyPair;
  /** The endpoint both ends bind into their signatures (canonicalEndpoint of the room, or a peer-channel name). */
  endpoint: string;
  head: Hash | null;
  timeoutMs?: number;
}

export interface Session {
  readonly channel: Channel;
  readonly peer: Identity;
  /** The head the peer claimed: a hint, not verified. */
  readonly peerHead: Hash | null;
}

export class SessionError extends Error {
  constructor(
    readonly code: 'auth_failed' | 'auth_timeout' | 'closed' | 'protocol',
    message: string,
  ) {
    super(message);
  }
}

export function authenticate(channel: Channel, options: SessionOptions): Promise<Session> {
  const { keys, endpoint, head } = options;
  const challenge = newChallenge();
  return new Promise<Session>((resolve, reject) => {
    let theirs: WireOf<'session_request'> | undefined;
    let verified = false;
    let authSent = false;
    let theirAuth = false;
    /** Frames after the peer's auth belong to whoever reads next; keep them while we verify. */
    const early: string[] = [];
    let settled = false;
    const finish = (error?: SessionError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      channel.onClose = null;
      if (error) {
        channel.close(error.code);
        reject(error);
      } else {
        channel.onFrame = null;
        channel.unread(early);
        resolve({ channel, peer: theirs!.identity, peerHead: theirs!.head });
      }
    };
    const timer = setTimeout(
      () => finish(new SessionError('auth_timeout', 'the peer did not authenticate in time')),
      options.timeoutMs ?? 10_000,
    );
    channel.onClose = (reason) => finish(new SessionError('closed', `channel closed during the handshake: ${reason}`));
    channel.read((frame) => {
      if (settled) return;
      if (theirAuth) return void early.push(frame);
      const parsed = parseWire(frame);
      if (!parsed.ok) return finish(new SessionError('protocol', parsed.error.message));
      const msg = parsed.value;
      if (msg.type === 'session_request') {
        if (theirs) return finish(new SessionError('protocol', 'second session_request'));
        theirs = msg;
        void signSession(keys, { endpoint, peer: msg.identity, signerChallenge: challenge, peerChallenge: msg.challenge }).then(
          (signature) => {
            if (settled) return;
            channel.send(encodeWire({ type: 'session_auth', signature }));
            authSent = true;
            if (verified) finish();
          },
        );
      } else if (msg.type === 'session_auth') {
        if (!theirs) return finish(new SessionError('protocol', 'session_auth before session_request'));
        theirAuth = true;
        const peer = theirs;
        void verifySession(
          { endpoint, signer: peer.identity, peer: keys.identity, signerChallenge: peer.challenge, peerChallenge: challenge },
          msg.signature,
        ).then((ok) => {
          if (!ok) return finish(new SessionError('auth_failed', `${peer.identity} did not prove its key`));
          verified = true;
          if (authSent) finish();
        });
      } else if (msg.type === 'error') {
        finish(new SessionError('auth_failed', `${msg.code}: ${msg.message}`));
      } else if (msg.type === 'ping') {
        // Allowed before authentication (§12.3 rule 4): a keepalive during a slow handshake.
        channel.send(encodeWire(msg.id ? { type: 'pong', re: msg.id } : { type: 'pong' }));
      } else if (msg.type !== 'pong') {
        finish(new SessionError('protocol', `${msg.type} before authentication`));
      }
    });
    channel.send(encodeWire({ type: 'session_request', identity: keys.identity, head, challenge }));
  });
}
