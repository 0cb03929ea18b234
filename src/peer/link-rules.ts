/**
 * Links by consent (docs/peer.md, Links): whom a browser dials, whose link
 * it accepts, and which link goes first when there are too many. Pure rules
 * over what the peer knows of its relations, so they are tested apart from
 * any transport.
 */
import type { Identity } from '../protocol/index.ts';

/**
 * Why a link exists, most useful first (LINK_ORDER):
 * - `device`: a live device of our own synod;
 * - `mutual`: we follow it and it follows us;
 * - `follow`: we follow it (the device, or its synod);
 * - `follower`: it follows us, as its feed (or its synod's) says;
 * - `pub`: a pub we chose (it says `pub` in `provides`: it serves strangers);
 * - `served`: a stranger this device serves because it is a pub itself;
 * - `claimed`: the room shows it to us as a device of an account we watch
 *   (ours, or one we follow: §13.8 rule 8) whose feed we do not hold yet, so
 *   we cannot tell yet whether it is one: a link on probation, through the
 *   room relay only, until that feed says (a device joining its account, or
 *   a new follower of an account, finds the account's devices so).
 */
export type LinkReason = 'device' | 'mutual' | 'follow' | 'follower' | 'pub' | 'served' | 'claimed';

/** Most useful first; links are dropped from the end. */
export const LINK_ORDER: readonly LinkReason[] = ['device', 'mutual', 'follow', 'follower', 'pub', 'served', 'claimed'];

/** Every bound on a browser's links, in one place. */
export const LINK_LIMITS = {
  /** Peer links held at once (room connections not counted). */
  maxLinks: 24,
  /** Of those, links to pubs we dialled. */
  maxPubs: 3,
} as const;

export type LinkLimits = { readonly maxLinks: number; readonly maxPubs: number };

/** What the peer knows of its relations, as sets of device (or synod) identities. */
export interface Relations {
  /** Live devices of our own synod, this one excluded. */
  readonly devices: ReadonlySet<Identity>;
  /** Identities we follow: synods and, through them, their devices. */
  readonly follows: ReadonlySet<Identity>;
  /** Identities whose feeds (or whose synod's feeds) hold a follow of us. */
  readonly followers: ReadonlySet<Identity>;
  /** Pubs we know (they said `pub` in `provides`, or the person added them). */
  readonly pubs: ReadonlySet<Identity>;
  readonly blocked: ReadonlySet<Identity>;
  /** This device serves strangers (it is a pub). */
  readonly servingStrangers: boolean;
  /** Some account we watch (ours, or one we follow) has no feed here yet: its devices cannot be told from others. */
  readonly checking?: boolean;
}

/** Why we would link with `identity`, or null: a stranger (or blocked), never linked. */
export function linkReason(identity: Identity, r: Relations): LinkReason | null {
  if (r.blocked.has(identity)) return null;
  if (r.devices.has(identity)) return 'device';
  const follow = r.follows.has(identity);
  const follower = r.followers.has(identity);
  if (follow && follower) return 'mutual';
  if (follow) return 'follow';
  if (follower) return 'follower';
  if (r.pubs.has(identity)) return 'pub';
  if (r.servingStrangers) return 'served';
  return r.checking ? 'claimed' : null;
}

/** We dial our devices, present people we follow, our followers, and our pubs; never a stranger, even as a pub. */
export const mayDial = (reason: LinkReason | null): reason is LinkReason => reason !== null && reason !== 'served';

/** We answer the same people, and strangers only when this device is a pub. */
export const mayAccept = (reason: LinkReason | null): reason is LinkReason => reason !== null;

export interface HeldLink {
  readonly identity: Identity;
  readonly reason: LinkReason;
  /** When the link last brought or took data (entries, blobs); its start until then. */
  readonly lastUseful: number;
}

const rank = (reason: LinkReason): number => LINK_ORDER.indexOf(reason);

/** Held links, least useful first: the lowest class, and within a class the least recently useful. */
export function dropOrder(held: readonly HeldLink[]): HeldLink[] {
  return [...held].sort((a, b) => rank(b.reason) - rank(a.reason) || a.lastUseful - b.lastUseful);
}

/**
 * Whether a new link of `reason` may be made (dialled or accepted):
 * `room` — under the caps; `{drop}` — make room by dropping that link, the
 * least useful, which the newcomer outranks; `refuse` — every held link is
 * at least as useful (a newcomer never displaces its own class), or the
 * pubs are full.
 */
export function makeRoom(
  held: readonly HeldLink[],
  reason: LinkReason,
  limits: LinkLimits = LINK_LIMITS,
): 'room' | 'refuse' | { drop: Identity } {
  if (reason === 'pub' && held.filter((h) => h.reason === 'pub').length >= limits.maxPubs) return 'refuse';
  if (held.length < limits.maxLinks) return 'room';
  const worst = dropOrder(held)[0];
  if (!worst || rank(worst.reason) <= rank(reason)) return 'refuse';
  return { drop: worst.identity };
}

/** Links to drop so that at most maxLinks remain (after a limit or a relation changed). */
export function overflow(held: readonly HeldLink[], limits: LinkLimits = LINK_LIMITS): Identity[] {
  return dropOrder(held)
    .slice(0, Math.max(0, held.length - limits.maxLinks))
    .map((h) => h.identity);
}
