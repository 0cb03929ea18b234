/** Web Push registration (§15.6): the body the path names, the signed statement vector, the strict schemas. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  keyPairFromSeed,
  pushBodyHash,
  pushPath,
  pushPayloadSchema,
  pushSubscribeSchema,
  pushUnsubscribeSchema,
  signRequest,
  verifyRequest,
} from '../../src/protocol/index.ts';
import { hex, SEED_A } from './vectors.compute.ts';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const BODY =
  '{"endpoint":"https://push.example/sub/abc","keys":{"p256dh":"BH0JhkDOvShriHVzv8DHU5VyuGkEll9nc-wdZrJ0eUJr_7didlHBDGutyZGa9h_-8tNMgXrTht-eJgcROitiWEQ","auth":"AAECAwQFBgcICQoLDA0ODw"},"kinds":["message","call"]}';

describe('push registration', () => {
  it('reproduces the vector of §15.6, which the spec quotes', async () => {
    const a = await keyPairFromSeed(hex(SEED_A));
    expect(pushSubscribeSchema.safeParse(JSON.parse(BODY)).success).toBe(true);
    const path = pushPath(BODY);
    expect(path).toBe('/api/push/&KcWOyACvU6B1pjKlR5OTv1f-9F4qtfEN_mEIbuHq4Ko');
    const fields = { method: 'PUT', path, time: 1700000000000, length: 210 };
    const headers = await signRequest(a, fields);
    expect(headers['Effigy-Signature']).toBe('R8cXtMgaULoQGRYu-_D6moU0Z83RkqE2Hd_7I8_r5iW1E77BzoLQDLwkNSBmrVLVmvRbOP3FI0NHyEZSyUsRCA');
    expect(await verifyRequest(a.identity, fields, headers['Effigy-Signature'] as string)).toBe(true);
    // Another body of the same length names another path: the signature does not carry over.
    const other = BODY.replace('"message"', '"massage"');
    expect(await verifyRequest(a.identity, { ...fields, path: pushPath(other) }, headers['Effigy-Signature'] as string)).toBe(false);
    for (const q of [BODY, path, headers['Effigy-Signature'] as string, pushBodyHash(BODY)]) expect(doc).toContain(q);
  });

  it('takes only https endpoints, whole keys, known kinds, and nothing else', () => {
    const base = JSON.parse(BODY) as Record<string, unknown>;
    const ok = (v: unknown) => pushSubscribeSchema.safeParse(v).success;
    expect(ok(base)).toBe(true);
    expect(ok({ ...base, endpoint: 'http://push.example/x' })).toBe(false);
    expect(ok({ ...base, endpoint: 'https://user:pw@push.example/x' })).toBe(false);
    expect(ok({ ...base, kinds: [] })).toBe(false);
    expect(ok({ ...base, kinds: ['message', 'sms'] })).toBe(false);
    expect(ok({ ...base, keys: { p256dh: 'short', auth: 'AAECAwQFBgcICQoLDA0ODw' } })).toBe(false);
    expect(ok({ ...base, extra: true })).toBe(false);
    expect(pushUnsubscribeSchema.safeParse({ endpoint: 'https://push.example/x' }).success).toBe(true);
  });

  it('a push says "a message", or "a call" and from whom, and nothing more', () => {
    expect(pushPayloadSchema.safeParse({ v: 1, kind: 'message' }).success).toBe(true);
    expect(pushPayloadSchema.safeParse({ v: 1, kind: 'message', from: '@11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }).success).toBe(
      false,
    );
    expect(pushPayloadSchema.safeParse({ v: 1, kind: 'call', from: '@11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }).success).toBe(true);
    expect(pushPayloadSchema.safeParse({ v: 1, kind: 'call' }).success).toBe(false);
  });
});
