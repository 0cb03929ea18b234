/**
 * Requests in flight on one connection: "send with an id, wait for the
 * message whose `re` names it". Each request gets a fresh id, fails on its
 * own after a deadline, and all of them fail at once when the connection
 * ends, so no caller waits forever. Nothing here knows the wire: it only
 * matches answers to ids.
 */

interface Waiting<T> {
  resolve: (answer: T) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Requests<T> {
  #next = 0;
  #waiting = new Map<string, Waiting<T>>();

  /** `prefix` keeps the ids of several of these on one connection apart. */
  constructor(private readonly prefix: string) {}

  /**
   * A fresh id, and the answer to it. Send the request with that id right
   * away (`send` runs once the id is registered, so even an instant answer
   * finds it); after `timeoutMs` the answer fails with `timedOut(id)`.
   */
  ask(send: (id: string) => void, timeoutMs: number, timedOut: (id: string) => Error): Promise<T> {
    const id = `${this.prefix}${++this.#next}`;
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(timedOut(id));
      }, timeoutMs);
      this.#waiting.set(id, { resolve, reject, timer });
      send(id);
    });
    // A caller that awaits still gets the failure. One that sent and moved on (a notice, a
    // renewal whose link is being left) must not turn "the connection ended" into an
    // unhandled rejection, which ends a Node process.
    answer.catch(() => undefined);
    return answer;
  }

  /** Whether a request with this id still waits. */
  has(id: string): boolean {
    return this.#waiting.has(id);
  }

  /** Settle request `re` with its answer; false when nothing waits for it (late, or never asked). */
  answer(re: string, answer: T): boolean {
    const waiting = this.#take(re);
    waiting?.resolve(answer);
    return waiting !== undefined;
  }

  /** Fail request `re`. */
  fail(re: string, error: Error): void {
    this.#take(re)?.reject(error);
  }

  /** Fail everything still waiting (the connection ended). */
  failAll(error: Error): void {
    for (const id of [...this.#waiting.keys()]) this.fail(id, error);
  }

  #take(id: string): Waiting<T> | undefined {
    const waiting = this.#waiting.get(id);
    if (!waiting) return undefined;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    return waiting;
  }
}
