/**
 * §3.1 on a real backend: workerd's WebCrypto accepts the forgeries of
 * docs/protocol-vectors.json (negative.forgeries), so the room stands on
 * rules 1–3, which Effigy code runs first. Announcing an entry signed so
 * under the neutral key is refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import stored from '../../docs/protocol-vectors.json' with { type: 'json' };
import { join, roomName, settleRooms } from './room-helpers.ts';

afterAll(settleRooms);

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

describe('forgeries under small-order keys', { timeout: 20_000 }, () => {
  it.each(stored.negative.forgeries.map((v) => [v.name, v] as const))("workerd's WebCrypto alone accepts: %s", async (_name, v) => {
    const key = await crypto.subtle.importKey('raw', hex(v.publicKey), { name: 'Ed25519' }, false, ['verify']);
    expect(await crypto.subtle.verify({ name: 'Ed25519' }, key, hex(v.signature), hex(v.message))).toBe(true);
  });

  it('the room refuses an entry by the neutral key with a signature WebCrypto would accept (bad_key)', async () => {
    const forged = stored.negative.entries.find((e) => e.error === 'bad_key')!;
    const s = await join(roomName('forgery'));
    s.client.send({ type: 'announce', id: 'f', entry: forged.text as string });
    const err = await s.client.error('f');
    expect(err.code).toBe('bad_entry');
    expect(err.message).toMatch(/^bad_key/);
    s.client.close();
  });
});
