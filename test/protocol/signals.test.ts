import { describe, expect, it } from 'vitest';
import { FRAME_BUDGET, FramePacker, LIMITS, packFrame, parseSignal, utf8Length, type ErrorCode } from '../../src/protocol/index.ts';

const code = (payload: unknown): ErrorCode | 'ok' => {
  const r = parseSignal(payload);
  return r.ok ? 'ok' : r.error.code;
};

const candidate = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 };

describe('peer signals', () => {
  it('accepts each kind as peers send it, browsers’ ICE candidates included', () => {
    expect(code({ ch: 'relay', m: { type: 'ping' } })).toBe('ok');
    expect(code({ ch: 'relay', ms: [{ type: 'ping' }, { type: 'pong' }] })).toBe('ok');
    expect(code({ ch: 'relay', close: 'bye' })).toBe('ok');
    expect(code({ ch: 'rtc', sdp: { type: 'offer', sdp: 'v=0' } })).toBe('ok');
    expect(code({ ch: 'rtc', candidate: { ...candidate, usernameFragment: 'ufrag' } })).toBe('ok');
    expect(code({ ch: 'rtc', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } })).toBe('ok');
    expect(code({ ch: 'rtc', fail: 'gave up' })).toBe('ok');
    expect(code({ ch: 'call', id: 'c', op: 'ice', candidate })).toBe('ok');
    expect(code({ ch: 'call', id: 'c', op: 'busy' })).toBe('ok');
  });

  it('tells a payload that is not a signal from a malformed one', () => {
    for (const other of [null, 'text', [], { hello: 1 }, { ch: 'chat', text: 'hi' }]) expect(code(other)).toBe('unknown_type');
    for (const bad of [
      { ch: 'relay', m: 'not an object' },
      { ch: 'relay', m: [] },
      { ch: 'relay', ms: [] },
      { ch: 'relay', ms: [{ type: 'ping' }, 'not an object'] },
      { ch: 'relay', ms: Array(65).fill({ type: 'ping' }) },
      { ch: 'relay', m: { type: 'ping' }, ms: [{ type: 'ping' }] },
      { ch: 'relay' },
      { ch: 'rtc', sdp: { type: 'pranswer', sdp: 'v=0' } },
      { ch: 'rtc', sdp: { type: 'offer', sdp: 'v=0' }, extra: true },
      { ch: 'rtc', candidate: { candidate: 'c', sdpMLineIndex: -1 } },
      { ch: 'call', id: '', op: 'busy' },
      { ch: 'call', id: 'c', op: 'offer', sdp: 'v=0' },
      { ch: 'call', id: 'c', op: 'ring' },
    ]) {
      expect(code(bad), JSON.stringify(bad)).toBe('bad_schema');
    }
  });

  it('bounds every string (§1.2)', () => {
    const at = (n: number) => 'x'.repeat(n);
    expect(code({ ch: 'rtc', sdp: { type: 'offer', sdp: at(LIMITS.sdpChars) } })).toBe('ok');
    expect(code({ ch: 'rtc', sdp: { type: 'offer', sdp: at(LIMITS.sdpChars + 1) } })).toBe('bad_schema');
    expect(code({ ch: 'rtc', candidate: { candidate: at(LIMITS.candidateChars + 1) } })).toBe('bad_schema');
    expect(code({ ch: 'relay', close: at(LIMITS.reasonChars) })).toBe('ok');
    expect(code({ ch: 'relay', close: at(LIMITS.reasonChars + 1) })).toBe('bad_schema');
    expect(code({ ch: 'rtc', fail: at(LIMITS.reasonChars + 1) })).toBe('bad_schema');
    expect(code({ ch: 'call', id: at(65), op: 'decline' })).toBe('bad_schema');
    expect(code({ ch: 'call', id: 'c', op: 'hangup', reason: at(LIMITS.reasonChars + 1) })).toBe('bad_schema');
  });
});

describe('frame packing', () => {
  it('takes items while their JSON fits the budget, and always the first', () => {
    const item = 'x'.repeat(1000);
    const cost = utf8Length(JSON.stringify(item)) + 1;
    expect(packFrame(Array(100).fill(item), cost * 10)).toHaveLength(10);
    expect(packFrame(Array(100).fill(item), cost * 10 - 1)).toHaveLength(9);
    expect(packFrame(['y'.repeat(5000)], 10)).toHaveLength(1);
    expect(packFrame([], 10)).toEqual([]);
  });

  it('keeps a full frame of the largest entries under the frame limit, relayable ones inside a payload', () => {
    const entry = '日'.repeat(LIMITS.entryBytes / 3 - 10);
    for (const [budget, limit] of [
      [FRAME_BUDGET.direct, LIMITS.frameBytes],
      [FRAME_BUDGET.relayable, LIMITS.messageBytes],
    ] as const) {
      const packed = packFrame(Array(50).fill(entry), budget);
      expect(packed.length).toBeGreaterThan(1);
      const frame = JSON.stringify({ type: 'entries', re: 'x'.repeat(64), identity: `@${'A'.repeat(43)}`, entries: packed });
      expect(utf8Length(frame)).toBeLessThanOrEqual(limit);
    }
    const packer = new FramePacker(5);
    expect([packer.take('abcdef'), packer.take('a')]).toEqual([true, false]);
  });
});
