import { describe, expect, it } from 'vitest';
import {
  encodeWire,
  jsonDepth,
  LIMITS,
  parseWire,
  WIRE_ERROR_CODES,
  WIRE_TYPES,
  wireErrorOf,
  type ErrorCode,
} from '../../src/protocol/index.ts';
import vectors from '../../docs/protocol-vectors.json' with { type: 'json' };

const A = vectors.keys.a.identity;
const B = vectors.keys.b.identity;
const H = vectors.hashes.abc;

const code = (frame: unknown): ErrorCode | 'ok' => {
  const r = parseWire(frame);
  return r.ok ? 'ok' : r.error.code;
};

describe('wire frames', () => {
  it('parses a valid message and carries id/re', () => {
    const r = parseWire(JSON.stringify({ type: 'get_heads', id: 'q1', identities: [A] }));
    expect(r.ok && r.value).toEqual({ type: 'get_heads', id: 'q1', identities: [A] });
  });

  it('bounds size before parsing', () => {
    expect(code(' '.repeat(LIMITS.frameBytes + 1))).toBe('too_big');
    expect(code(JSON.stringify({ type: 'ping', x: '日'.repeat(LIMITS.frameBytes / 3) }))).toBe('too_big');
  });

  it(`bounds nesting at ${LIMITS.jsonDepth} arrays and objects, wherever they are (issue 14: 24,000 levels were relayed)`, () => {
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    const inMessage = (levels: number): string => `{"type":"message_to","to":"${A}","payload":${nest(levels)}}`;
    expect(code(inMessage(24_000))).toBe('bad_schema');
    expect(code(inMessage(LIMITS.jsonDepth))).toBe('bad_schema');
    // Positive control: the frame object plus payload nesting up to the bound is a message.
    expect(code(inMessage(LIMITS.jsonDepth - 1))).toBe('ok');
    // Brackets inside strings are text, escaped quotes included.
    expect(code(JSON.stringify({ type: 'message_to', to: A, payload: '[{"\\'.repeat(2000) }))).toBe('ok');
    expect(jsonDepth('{"a":"\\"}')).toBe(1);
    expect(jsonDepth('[{"a":"]\\\\"}, [[]]]')).toBe(3);
  });

  it.each([
    ['binary', new Uint8Array(3), 'bad_encoding'],
    ['not JSON', '{type:', 'bad_json'],
    ['an array', '[]', 'bad_schema'],
    ['unknown type', '{"type":"hello"}', 'unknown_type'],
    ['prototype keys', '{"type":"__proto__"}', 'unknown_type'],
    ['extra field', '{"type":"ping","evil":1}', 'bad_schema'],
    ['bad identity', '{"type":"watch","add":["@abc"]}', 'bad_schema'],
    ['hash as identity', `{"type":"allow","remove":["${H}"]}`, 'bad_schema'],
    ['too many items', JSON.stringify({ type: 'iwant', hashes: Array(LIMITS.listItems + 1).fill(H) }), 'bad_schema'],
    ['unknown service', '{"type":"request_service","service":"mining"}', 'bad_schema'],
    ['non-canonical challenge', `{"type":"session_request","identity":"${A}","head":null,"challenge":"${'A'.repeat(42)}B"}`, 'bad_schema'],
    ['oversized relay payload', JSON.stringify({ type: 'message_to', to: A, payload: 'x'.repeat(LIMITS.messageBytes) }), 'bad_schema'],
    ['an error code outside §13.4', '{"type":"error","code":"bad_encoding","message":"x"}', 'bad_schema'],
    ['a watch over listItems', JSON.stringify({ type: 'watch', add: Array(300).fill(A), remove: Array(213).fill(B) }), 'bad_schema'],
    ['an identity both added and removed', JSON.stringify({ type: 'allow', add: [A], remove: [B, A] }), 'bad_schema'],
    ['a visibility missing an opt-in', '{"type":"visibility","anyone":true}', 'bad_schema'],
    [
      'a presence_list over listItems',
      JSON.stringify({ type: 'presence_list', peers: Array(256).fill({ identity: A, head: null }), offline: Array(257).fill(B) }),
      'bad_schema',
    ],
    [
      'an identity both present and offline',
      JSON.stringify({ type: 'presence_list', peers: [{ identity: A, head: null }], offline: [A] }),
      'bad_schema',
    ],
    ['the offline message of old', `{"type":"offline","identity":"${A}"}`, 'unknown_type'],
    [
      'a get_feed over feedLimit',
      JSON.stringify({ type: 'get_feed', identity: A, from: H, known: null, limit: LIMITS.feedLimit + 1 }),
      'bad_schema',
    ],
    ['entries with more: false', JSON.stringify({ type: 'entries', identity: A, entries: [], more: false }), 'bad_schema'],
    ['getblob with binary: false', JSON.stringify({ type: 'getblob', hash: H, maxsize: 1, binary: false }), 'bad_schema'],
    ['changes without an epoch', JSON.stringify({ type: 'changes', seq: 1, heads: [], entries: [] }), 'bad_schema'],
    ['an epoch that is not base64url', JSON.stringify({ type: 'get_changes', digest: H, epoch: 'no spaces', seq: 0 }), 'bad_schema'],
    [
      'interests with an identity that is a hash',
      JSON.stringify({ type: 'interests', base: null, digest: H, add: [H], remove: [] }),
      'bad_schema',
    ],
  ])('rejects %s', (_, frame, expected) => {
    expect(code(frame)).toBe(expected);
  });

  it('knows the error codes of §13.4, and names the wire code for each parse failure', () => {
    for (const c of WIRE_ERROR_CODES) expect(code(JSON.stringify({ type: 'error', code: c, message: 'm' }))).toBe('ok');
    const wireCode = (frame: unknown) => {
      const r = parseWire(frame);
      return r.ok ? 'ok' : wireErrorOf(r.error.code);
    };
    expect(wireCode(new Uint8Array(3))).toBe('bad_frame');
    expect(wireCode('{type:')).toBe('bad_json');
    expect(wireCode('{"type":"hello"}')).toBe('unknown_type');
    expect(wireCode(' '.repeat(LIMITS.frameBytes + 1))).toBe('too_big');
    expect(wireCode('[]')).toBe('bad_schema');
    expect(wireErrorOf('bad_signature')).toBe('bad_schema');
  });

  it('takes a full watch delta and a full presence_list within one frame', () => {
    const half = LIMITS.listItems / 2;
    expect(code(JSON.stringify({ type: 'watch', id: 'w', add: Array(half).fill(A), remove: Array(half).fill(B) }))).toBe('ok');
    const peers = Array(LIMITS.listItems).fill({ identity: A, head: H });
    expect(encodeWire({ type: 'presence_list', peers } as never).length).toBeLessThan(LIMITS.frameBytes);
  });

  it('refuses to encode a frame a peer would reject', () => {
    expect(() => encodeWire({ type: 'message_to', to: A as never, payload: 'x'.repeat(LIMITS.frameBytes) })).toThrow();
    expect(encodeWire({ type: 'ping' })).toBe('{"type":"ping"}');
  });

  it("knows every message type of the design's request sequences", () => {
    for (const t of [
      'session_request',
      'session_auth',
      'provides',
      'get_heads',
      'last_known_heads',
      'online',
      'presence_list',
      'message_to',
      'message_from',
      'iwant',
      'ihave',
      'getblob',
      'blob',
      'drop',
      'call',
    ]) {
      expect(WIRE_TYPES).toContain(t);
    }
  });
});
