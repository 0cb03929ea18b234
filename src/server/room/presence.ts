/**
 * Who is in the room: identity → its authenticated sockets (several tabs or
 * devices may share an identity), and the head each identity is present
 * with. Rebuilt from the sockets' attachments when the object wakes.
 */
import type { Hash, Identity } from '../../protocol/index.ts';
import type { Conn } from './conn.ts';

interface Present {
  readonly conns: Set<Conn>;
  head: Hash | null;
  /** authedAt of the socket whose claim `head` is, so a rebuild picks the same one. */
  since: number;
}

export class Presence {
  readonly #byIdentity = new Map<Identity, Present>();
  #sockets = 0;

  /** Authenticated sockets present: what fills a shard (admission.ts). */
  get sockets(): number {
    return this.#sockets;
  }

  /** Adds an authed socket. Answers whether its identity was absent before. */
  add(conn: Conn): { first: boolean; headChanged: boolean } {
    const identity = conn.identity;
    const head = conn.att.head ?? null;
    const since = conn.att.authedAt ?? 0;
    const present = this.#byIdentity.get(identity);
    if (!present?.conns.has(conn)) this.#sockets++;
    if (!present) {
      this.#byIdentity.set(identity, { conns: new Set([conn]), head, since });
      return { first: true, headChanged: true };
    }
    present.conns.add(conn);
    const headChanged = present.head !== head;
    if (since >= present.since) {
      present.head = head;
      present.since = since;
    }
    return { first: false, headChanged };
  }

  /** Removes a socket. Answers whether it was its identity's last. */
  remove(conn: Conn): boolean {
    const identity = conn.att.identity;
    if (!identity) return false;
    const present = this.#byIdentity.get(identity);
    if (!present || !present.conns.delete(conn)) return false;
    this.#sockets--;
    if (present.conns.size > 0) return false;
    this.#byIdentity.delete(identity);
    return true;
  }

  has(identity: Identity): boolean {
    return this.#byIdentity.has(identity);
  }

  socketsOf(identity: Identity): ReadonlySet<Conn> {
    return this.#byIdentity.get(identity)?.conns ?? new Set();
  }

  headOf(identity: Identity): Hash | null {
    return this.#byIdentity.get(identity)?.head ?? null;
  }

  /** The client says (again, with `online`) which head it is present with. Answers whether its identity's head changed. */
  claimHead(conn: Conn, head: Hash | null): boolean {
    const present = this.#byIdentity.get(conn.identity);
    conn.update({ head, authedAt: Date.now() });
    if (!present || present.head === head) return false;
    present.head = head;
    present.since = conn.att.authedAt ?? 0;
    return true;
  }

  /** A newer head for a present identity (from a verified announce): remembered in its sockets' attachments. */
  setHead(identity: Identity, head: Hash): void {
    const present = this.#byIdentity.get(identity);
    if (!present) return;
    present.head = head;
    for (const conn of present.conns) conn.update({ head });
  }

  /** Every present identity but `except`, with its head. */
  peers(except?: Identity): { identity: Identity; head: Hash | null }[] {
    const out: { identity: Identity; head: Hash | null }[] = [];
    for (const [identity, present] of this.#byIdentity) {
      if (identity !== except) out.push({ identity, head: present.head });
    }
    return out;
  }

  get size(): number {
    return this.#byIdentity.size;
  }
}
