/**
 * The rules of links by consent, alone: whom a browser dials and answers,
 * the cap, and the order links are dropped in. Every "no" has its "yes"
 * beside it, so a rule that refused everything would fail here.
 */
import { describe, expect, it } from 'vitest';
import {
  dropOrder,
  LINK_LIMITS,
  LINK_ORDER,
  linkReason,
  makeRoom,
  mayAccept,
  mayDial,
  overflow,
  type HeldLink,
  type LinkReason,
  type Relations,
} from '../../src/peer/link-rules.ts';
import type { Identity } from '../../src/protocol/index.ts';

const id = (name: string) => `@${name.padEnd(43, 'x')}` as Identity;
const [DEV, MUT, FOL, FAN, PUB, STRANGER, BLOCKED] = ['dev', 'mut', 'fol', 'fan', 'pub', 'stranger', 'blocked'].map(id) as Identity[];

const relations = (over: Partial<Relations> = {}): Relations => ({
  devices: new Set([DEV!]),
  follows: new Set([MUT!, FOL!, BLOCKED!]),
  followers: new Set([MUT!, FAN!, BLOCKED!]),
  pubs: new Set([PUB!]),
  blocked: new Set([BLOCKED!]),
  servingStrangers: false,
  ...over,
});

describe('dial and accept', () => {
  it('names why we would link with each relation, and nothing for a stranger', () => {
    const r = relations();
    expect(linkReason(DEV!, r)).toBe('device');
    expect(linkReason(MUT!, r)).toBe('mutual');
    expect(linkReason(FOL!, r)).toBe('follow');
    expect(linkReason(FAN!, r)).toBe('follower');
    expect(linkReason(PUB!, r)).toBe('pub');
    expect(linkReason(STRANGER!, r)).toBeNull();
  });

  it('a block wins over following both ways', () => {
    expect(linkReason(BLOCKED!, relations())).toBeNull();
    // Positive control: the same relations without the block link.
    expect(linkReason(BLOCKED!, relations({ blocked: new Set() }))).toBe('mutual');
  });

  it('dials devices, follows, followers and pubs; never a stranger', () => {
    const r = relations();
    for (const who of [DEV, MUT, FOL, FAN, PUB]) expect(mayDial(linkReason(who!, r))).toBe(true);
    expect(mayDial(linkReason(STRANGER!, r))).toBe(false);
  });

  it('accepts a stranger only when this device is a pub, and even then never dials one', () => {
    expect(mayAccept(linkReason(STRANGER!, relations()))).toBe(false);
    const pub = relations({ servingStrangers: true });
    expect(linkReason(STRANGER!, pub)).toBe('served');
    expect(mayAccept(linkReason(STRANGER!, pub))).toBe(true);
    expect(mayDial(linkReason(STRANGER!, pub))).toBe(false);
    // Being a pub changes nothing for the people we know, nor for blocks.
    expect(linkReason(FAN!, pub)).toBe('follower');
    expect(mayAccept(linkReason(BLOCKED!, pub))).toBe(false);
  });
});

const held = (reason: LinkReason, name: string, lastUseful: number): HeldLink => ({ identity: id(name), reason, lastUseful });

describe('claimed devices', () => {
  it('are on probation only while an account we watch has no feed here; a known relation always wins', () => {
    expect(linkReason(STRANGER!, relations())).toBeNull();
    const checking = relations({ checking: true });
    expect(linkReason(STRANGER!, checking)).toBe('claimed');
    expect(mayDial(linkReason(STRANGER!, checking))).toBe(true);
    expect(linkReason(FOL!, checking)).toBe('follow');
    expect(linkReason(BLOCKED!, checking)).toBeNull();
  });
});

describe('the cap and the drop order', () => {
  it('drops the lowest class first, and within a class the least recently useful', () => {
    const links = [
      held('follow', 'f-old', 1),
      held('device', 'd', 0),
      held('served', 's', 50),
      held('mutual', 'm', 2),
      held('pub', 'p', 40),
      held('follower', 'r', 30),
      held('follow', 'f-new', 9),
    ];
    expect(dropOrder(links).map((h) => h.identity)).toEqual(['s', 'p', 'r', 'f-old', 'f-new', 'm', 'd'].map(id));
    expect(LINK_ORDER).toEqual(['device', 'mutual', 'follow', 'follower', 'pub', 'served', 'claimed']);
  });

  it('is 24 links by default, of which 3 pubs', () => {
    expect(LINK_LIMITS).toEqual({ maxLinks: 24, maxPubs: 3 });
  });

  it('has room under the cap; at the cap a newcomer displaces only a lower class', () => {
    const limits = { maxLinks: 3, maxPubs: 3 };
    const two = [held('follow', 'a', 5), held('follower', 'b', 1)];
    expect(makeRoom(two, 'follower', limits)).toBe('room');
    const full = [...two, held('follower', 'c', 0)];
    // Equal class: no churn, the newcomer is refused...
    expect(makeRoom(full, 'follower', limits)).toBe('refuse');
    expect(makeRoom(full, 'pub', limits)).toBe('refuse');
    // ...a better one takes the place of the least recently useful of the lowest class.
    expect(makeRoom(full, 'follow', limits)).toEqual({ drop: id('c') });
    expect(makeRoom(full, 'device', limits)).toEqual({ drop: id('c') });
  });

  it('holds at most maxPubs pubs, even under the cap', () => {
    const limits = { maxLinks: 10, maxPubs: 2 };
    const one = [held('pub', 'p1', 0), held('follow', 'f', 0)];
    expect(makeRoom(one, 'pub', limits)).toBe('room');
    const two = [...one, held('pub', 'p2', 0)];
    expect(makeRoom(two, 'pub', limits)).toBe('refuse');
    expect(makeRoom(two, 'follower', limits)).toBe('room');
  });

  it('sheds the overflow least useful first when the cap shrinks', () => {
    const links = [held('device', 'd', 0), held('pub', 'p', 9), held('follow', 'f', 0), held('served', 's', 9)];
    expect(overflow(links, { maxLinks: 2, maxPubs: 3 })).toEqual([id('s'), id('p')]);
    expect(overflow(links, { maxLinks: 4, maxPubs: 3 })).toEqual([]);
  });
});
