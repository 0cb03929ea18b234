/**
 * What a room connection tells the room about whom it cares for
 * (docs/protocol.md §13.8): the opt-ins (`visibility`), who may see and
 * message us (`allow`), and whose presence we want (`watch`). Sent after
 * every session, then as deltas when they change; long lists in chunks of
 * at most 512 names, paced under the room's rate.
 */
import { LIMITS, type Identity } from '../protocol/index.ts';
import type { Link } from './link.ts';

export interface Interest {
  watch(): Identity[];
  allow(): Identity[];
  visibility(): { anyone: boolean; strangers: boolean };
}

export interface ListDelta {
  add?: Identity[];
  remove?: Identity[];
}

/**
 * Our share of the room's rate (docs/room.md §8: a socket gets 50 tokens/s,
 * bursts of 100, and a watch or allow frame weighs 1 + ⌊items / 64⌋), leaving
 * the rest for signals, announces and head requests.
 */
export const INTEREST_PACE = { tokensPerSecond: 20, burst: 40, itemsPerToken: 64 } as const;

export const frameWeight = (d: ListDelta): number =>
  1 + Math.floor(((d.add?.length ?? 0) + (d.remove?.length ?? 0)) / INTEREST_PACE.itemsPerToken);

/** The frames that take the room's copy from `held` to `wanted`: removals first (they free room under the quota), each frame at most `max` names. */
export function deltaFrames(held: ReadonlySet<Identity>, wanted: readonly Identity[], max: number = LIMITS.listItems): ListDelta[] {
  const want = new Set(wanted);
  const names: ['add' | 'remove', Identity][] = [
    ...[...held].filter((i) => !want.has(i)).map((i) => ['remove', i] as ['remove', Identity]),
    ...[...want].filter((i) => !held.has(i)).map((i) => ['add', i] as ['add', Identity]),
  ];
  const frames: ListDelta[] = [];
  for (let i = 0; i < names.length; i += max) {
    const frame: ListDelta = {};
    for (const [op, id] of names.slice(i, i + max)) (frame[op] ??= []).push(id);
    frames.push(frame);
  }
  return frames;
}

export class InterestSync {
  readonly held = { watch: new Set<Identity>(), allow: new Set<Identity>() };
  #visibility: string | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #tokens: number = INTEREST_PACE.burst;
  #last = performance.now();

  constructor(
    private readonly link: Link,
    private readonly interest: Interest,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Bring the room up to date; calls while a run is on coalesce into one more run. */
  update(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#run()
      .catch((err: Error) => {
        if (!this.link.closed) this.log(`room interest: ${err.message}`);
      })
      .finally(() => (this.#running = null));
    return this.#running;
  }

  async #run(): Promise<void> {
    do {
      this.#again = false;
      if (this.link.closed) return;
      const visibility = this.interest.visibility();
      if (JSON.stringify(visibility) !== this.#visibility) {
        await this.#pace(1);
        const reply = await this.link.request({ type: 'visibility', ...visibility });
        if (reply.type === 'ok') this.#visibility = JSON.stringify(visibility);
        else if (reply.type === 'error') this.log(`the room refused visibility: ${reply.code}: ${reply.message}`);
      }
      await this.#list('allow', this.interest.allow());
      await this.#list('watch', this.interest.watch());
    } while (this.#again);
  }

  async #list(type: 'watch' | 'allow', wanted: Identity[]): Promise<void> {
    const held = this.held[type];
    for (const frame of deltaFrames(held, wanted)) {
      if (this.link.closed) return;
      await this.#pace(frameWeight(frame));
      const reply = await this.link.request({ type, ...frame });
      if (reply.type === 'error') {
        // Nothing changed at the room (quota, or a room without presence by interest): try again on the next change.
        this.log(`the room refused ${type}: ${reply.code}: ${reply.message}`);
        return;
      }
      for (const id of frame.remove ?? []) held.delete(id);
      for (const id of frame.add ?? []) held.add(id);
    }
  }

  /** Wait until `weight` tokens are there (a token bucket, our side of the room's). */
  async #pace(weight: number): Promise<void> {
    const { tokensPerSecond, burst } = INTEREST_PACE;
    const now = performance.now();
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#last) * tokensPerSecond) / 1000);
    this.#last = now;
    if (this.#tokens < weight) {
      await new Promise((r) => setTimeout(r, ((weight - this.#tokens) * 1000) / tokensPerSecond));
      this.#tokens = weight;
      this.#last = performance.now();
    }
    this.#tokens -= weight;
  }
}
