/**
 * The change log of heads, as peers see it (docs/protocol.md §13.7): its
 * name (the epoch, kept with the store: a wiped store starts a new log) and
 * the `changes` frames that tell a peer what moved, packed to a frame budget.
 */
import { FramePacker, LIMITS, randomBytes, toBase64url, type Entry, type Hash, type Identity, type WireOf } from '../protocol/index.ts';
import type { Store, StoredHead } from './store.ts';

const EPOCH = 'notes-epoch';
const making = new WeakMap<Store, Promise<string>>();

/** The name of this store's change log, made on first use and kept in its settings. */
export async function epochOf(store: Store): Promise<string> {
  const kept = await store.getSetting<string>(EPOCH);
  if (kept) return kept;
  let made = making.get(store);
  if (!made) {
    made = (async () => {
      const epoch = toBase64url(randomBytes(16));
      await store.putSetting(EPOCH, epoch);
      return epoch;
    })();
    making.set(store, made);
    void made.finally(() => making.delete(store));
  }
  return made;
}

/**
 * `changes` frames listing `heads` (with the head entries in `entries`,
 * where one is given and it fits), every frame but the last marked `more`.
 */
export function changesFrames(
  log: { re: string | undefined; epoch: string; seq: number },
  heads: readonly StoredHead[],
  entries: readonly (Entry | undefined)[],
  budget: number,
): WireOf<'changes'>[] {
  const frames: WireOf<'changes'>[] = [];
  let i = 0;
  do {
    const packer = new FramePacker(budget);
    const pairs: [Identity, Hash][] = [];
    const texts: string[] = [];
    while (i < heads.length && pairs.length < LIMITS.listItems) {
      const h = heads[i] as StoredHead;
      if (!packer.take([h.identity, h.hash])) break;
      pairs.push([h.identity, h.hash]);
      const text = entries[i]?.text;
      if (text !== undefined && texts.length < LIMITS.feedBatch && packer.take(text)) texts.push(text);
      i++;
    }
    const more = i < heads.length;
    frames.push({
      type: 'changes',
      re: log.re,
      epoch: log.epoch,
      seq: log.seq,
      heads: pairs,
      entries: texts,
      ...(more && { more: true as const }),
    });
  } while (i < heads.length);
  return frames;
}
