import { describe, expect, it } from 'vitest';
import { asCallSignal } from '../../src/peer/calls.ts';

describe('call signals', () => {
  it('parses what the room carries and nothing else', () => {
    expect(asCallSignal({ ch: 'call', id: 'x', op: 'offer', sdp: 'v=0', video: true })).toEqual({ ch: 'call', id: 'x', op: 'offer', sdp: 'v=0', video: true });
    expect(asCallSignal({ ch: 'call', id: 'x', op: 'answer', sdp: 'v=0' })).toEqual({ ch: 'call', id: 'x', op: 'answer', sdp: 'v=0' });
    expect(asCallSignal({ ch: 'call', id: 'x', op: 'ice', candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 } })).toEqual({
      ch: 'call',
      id: 'x',
      op: 'ice',
      candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 },
    });
    expect(asCallSignal({ ch: 'call', id: 'x', op: 'hangup', reason: 'r'.repeat(500) })).toEqual({ ch: 'call', id: 'x', op: 'hangup', reason: 'r'.repeat(200) });
    for (const bad of [null, 'call', { ch: 'rtc', id: 'x', op: 'offer', sdp: '' }, { ch: 'call', op: 'offer', sdp: '' }, { ch: 'call', id: 'x'.repeat(65), op: 'decline' }, { ch: 'call', id: 'x', op: 'offer' }, { ch: 'call', id: 'x', op: 'ice', candidate: {} }, { ch: 'call', id: 'x', op: 'ring' }]) {
      expect(asCallSignal(bad)).toBeNull();
    }
  });
});
