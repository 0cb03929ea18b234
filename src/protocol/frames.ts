/**
 * Packing list items into one frame (§13.1 rules 7 and 8): a sender that
 * answers with a list (`entries`, `drop_delivery`) puts in as many items as
 * fit a byte budget and leaves the rest for the next request.
 */
import { utf8Length } from './bytes.ts';
import { LIMITS } from './limits.ts';

/** Bytes of list items one frame may carry, leaving room for the members around the list. */
export const FRAME_BUDGET = {
  /** A frame sent straight over a socket or data channel. */
  direct: LIMITS.frameBytes - 1024,
  /** A frame that may travel relayed inside a `message_to` payload (at most `LIMITS.messageBytes`), with room for its members and the relay signal around it. */
  relayable: 47 * 1024,
} as const;

/**
 * Counts the JSON bytes of items as they are added to a frame. The first
 * item always goes in: every item a list may hold fits a frame alone.
 */
export class FramePacker {
  #bytes = 0;
  #count = 0;

  constructor(readonly budget: number = FRAME_BUDGET.direct) {}

  /** Counts `item` in and answers true, or answers false when it would pass the budget (the frame is full). */
  take(item: unknown): boolean {
    // The item's JSON plus the comma before the next one.
    const cost = utf8Length(JSON.stringify(item)) + 1;
    if (this.#count > 0 && this.#bytes + cost > this.budget) return false;
    this.#bytes += cost;
    this.#count++;
    return true;
  }
}

/** The leading items of `items` that fit one frame under `budget`. */
export function packFrame<T>(items: Iterable<T>, budget: number = FRAME_BUDGET.direct): T[] {
  const packer = new FramePacker(budget);
  const out: T[] = [];
  for (const item of items) {
    if (!packer.take(item)) break;
    out.push(item);
  }
  return out;
}
