/**
 * Pairing by code (docs/protocol.md §9.5), the rendezvous: both devices open
 * a session, as the identity the code derives, to a room named after it, and
 * talk through `message_to` that identity (the room forwards to its other
 * socket). The device holding the synod key offers the synod until someone
 * answers with a membership proof, verifies it (acceptPairing) and publishes
 * the `add_device` entry; the new device answers the first offer and waits to
 * be told it was added. Whoever shows the code, the roles are the same.
 */
import { derivePairing, openPair, parseSignal, sealPair, type Identity, type PairMessage, type PairingSecrets } from '../protocol/index.ts';
import { PeerError } from './errors.ts';
import type { Replica } from './replica.ts';
import { RoomClient } from './room-client.ts';
import type { SynodAccount } from './synod.ts';

/** How often the holder repeats its offer while nobody has answered (the other device may join later). */
const OFFER_EVERY_MS = 1500;
const PAIRING_TIMEOUT_MS = 10 * 60_000;

export interface PairingRun<T> {
  /** Settles once paired; rejects on timeout, cancel, or a refused proof. */
  readonly done: Promise<T>;
  cancel(): void;
}

export interface PairingOptions {
  replica: Replica;
  synod: SynodAccount;
  WebSocket?: unknown;
  log?: (line: string) => void;
}

/** The room for a code on a server: `wss://host/room/pair-…` from any http(s) or ws(s) origin. */
export function pairingRoomUrl(server: string, secrets: PairingSecrets): string {
  const u = new URL(server);
  const scheme = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  return `${scheme}//${u.host}/room/${secrets.room}`;
}

function run<T>(
  options: PairingOptions,
  code: string,
  server: string,
  timeoutMs: number,
  start: (secrets: PairingSecrets, room: RoomClient, finish: (value: T) => void, abort: (err: Error) => void) => () => void,
): PairingRun<T> {
  let cancel = (): void => undefined;
  const done = new Promise<T>((resolve, reject) => {
    let ended = false;
    let room: RoomClient | null = null;
    let stop = (): void => undefined;
    const end = (): void => {
      ended = true;
      clearTimeout(timer);
      stop();
      room?.close();
    };
    const finish = (value: T) => (end(), resolve(value));
    const abort = (err: Error) => (end(), reject(err));
    const timer = setTimeout(
      () => abort(new PeerError('timeout', 'no device answered with this code: it may be mistyped, or expired')),
      timeoutMs,
    );
    cancel = () => abort(new PeerError('cancelled', 'pairing cancelled'));
    derivePairing(code).then(
      (secrets) => {
        if (ended) return;
        room = new RoomClient({
          url: pairingRoomUrl(server, secrets),
          keys: secrets.keys,
          replica: options.replica,
          provides: ['blobs'],
          head: async () => null,
          ...(options.WebSocket !== undefined && { WebSocket: options.WebSocket }),
          ...(options.log && { log: options.log }),
        });
        stop = start(secrets, room, finish, abort);
      },
      (err: Error) => abort(new PeerError('bad_input', err.message)),
    );
  });
  return { done, cancel: () => cancel() };
}

/** Pairing messages from the other socket of the rendezvous identity. */
function onPair(room: RoomClient, secrets: PairingSecrets, handle: (m: PairMessage) => void): () => void {
  return room.events.on('message', ({ from, payload }) => {
    if (from !== secrets.keys.identity) return;
    const signal = parseSignal(payload);
    if (!signal.ok || signal.value.ch !== 'pair') return;
    const message = openPair(secrets.box, signal.value);
    if (message.ok) handle(message.value);
  });
}

const say = (room: RoomClient, secrets: PairingSecrets, message: PairMessage): boolean =>
  room.sendTo(secrets.keys.identity, sealPair(secrets.box, message));

/**
 * On the device holding the synod key: offer the synod under `code` at
 * `server` and admit the first device that answers with a valid proof.
 * `name` names the new device (else the name it asked for).
 */
export function holdPairing(
  options: PairingOptions,
  synod: { identity: Identity; name?: string },
  code: string,
  server: string,
  deviceName?: string,
  timeoutMs = PAIRING_TIMEOUT_MS,
): PairingRun<{ device: Identity; name?: string }> {
  return run(options, code, server, timeoutMs, (secrets, room, finish, abort) => {
    let admitting = false;
    const offer: PairMessage = { op: 'offer', synod: synod.identity, ...(synod.name && { name: synod.name.slice(0, 64) }) };
    const timer = setInterval(() => say(room, secrets, offer), OFFER_EVERY_MS);
    const offLink = room.events.on('link', () => say(room, secrets, offer));
    const offPair = onPair(room, secrets, (m) => {
      if (m.op !== 'join' || admitting || m.synod !== synod.identity) return;
      admitting = true;
      const name = deviceName ?? m.name;
      options.synod.acceptPairing(`effigy-pair:${m.synod}.${m.device}.${m.proof}`, name).then(
        async () => {
          const link = room.link;
          // Wait for the room to take the last word before closing the socket under it.
          if (link)
            await link
              .request({ type: 'message_to', to: secrets.keys.identity, payload: sealPair(secrets.box, { op: 'done', device: m.device }) })
              .catch(() => undefined);
          finish({ device: m.device, ...(name !== undefined && { name }) });
        },
        (err: Error) => abort(err),
      );
    });
    return () => {
      clearInterval(timer);
      offLink();
      offPair();
    };
  });
}

/**
 * On the new device: answer the first offer under `code` at `server` with a
 * membership proof for its synod (this device then watches that synod), and
 * settle once the holder says it added this device.
 */
export function joinPairing(
  options: PairingOptions,
  device: Identity,
  code: string,
  server: string,
  name?: string,
  timeoutMs = PAIRING_TIMEOUT_MS,
): PairingRun<{ synod: Identity; name?: string }> {
  return run(options, code, server, timeoutMs, (secrets, room, finish) => {
    let offered: { synod: Identity; name?: string; join?: PairMessage } | null = null;
    return onPair(room, secrets, (m) => {
      if (m.op === 'offer') {
        // The first offer decides; later ones repeat it (the answer may have been lost) or come from someone else.
        if (offered && offered.synod !== m.synod) return;
        if (!offered) {
          const chosen: { synod: Identity; name?: string; join?: PairMessage } = { synod: m.synod, ...(m.name && { name: m.name }) };
          offered = chosen;
          void options.synod.askToJoin(m.synod).then((proof) => {
            chosen.join = { op: 'join', synod: m.synod, device, proof, ...(name && { name: name.slice(0, 64) }) };
            say(room, secrets, chosen.join);
          });
        } else if (offered.join) say(room, secrets, offered.join);
      } else if (m.op === 'done' && m.device === device && offered) {
        finish({ synod: offered.synod, ...(offered.name && { name: offered.name }) });
      }
    });
  });
}
