/**
 * The room's own requests to a socket (a data lease's get_feed): sent with an
 * `id`, answered by the frame that carries it as `re`. The dispatcher hands
 * every such frame here before any service sees it. Waiters belong to one
 * room instance and one socket, and end with it.
 */
import type { WireMessage } from '../../protocol/index.ts';
import type { Conn } from './conn.ts';

export class RequestError extends Error {
  constructor(
    /** "timeout": no answer in time; "closed": the socket left first. */
    readonly kind: 'timeout' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

interface Waiter {
  resolve: (answer: WireMessage) => void;
  reject: (err: RequestError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Requests {
  #sequence = 0;
  readonly #waiting = new WeakMap<Conn, Map<string, Waiter>>();

  /** Sends `message` with a fresh id through `send` and waits for its answer (an `error` answer too). */
  ask(conn: Conn, message: WireMessage, timeoutMs: number, send: (message: WireMessage) => void): Promise<WireMessage> {
    const id = `room-${(++this.#sequence).toString(36)}`;
    let waiting = this.#waiting.get(conn);
    if (!waiting) this.#waiting.set(conn, (waiting = new Map()));
    const pending = waiting;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new RequestError('timeout', `${message.type} was not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      send({ ...message, id });
    });
  }

  /** Hands an answer to the request it names. False when the room waits for no such answer on this socket. */
  answer(conn: Conn, message: WireMessage): boolean {
    const waiting = message.re === undefined ? undefined : this.#waiting.get(conn);
    const waiter = waiting?.get(message.re as string);
    if (!waiter) return false;
    waiting!.delete(message.re as string);
    clearTimeout(waiter.timer);
    waiter.resolve(message);
    return true;
  }

  /** The socket left: every request waiting on it fails. */
  drop(conn: Conn): void {
    const waiting = this.#waiting.get(conn);
    if (!waiting) return;
    this.#waiting.delete(conn);
    for (const waiter of waiting.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new RequestError('closed', 'the socket left before answering'));
    }
  }
}
