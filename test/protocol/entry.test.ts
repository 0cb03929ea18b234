import { describe, expect, it } from 'vitest';
import { createEntry, generateKeyPair, LIMITS, openEntry, trustedEntry, utf8, type ErrorCode } from '../../src/protocol/index.ts';
import { fakeHash, note, signBody } from './helpers.ts';

const keys = await generateKeyPair();
const other = await generateKeyPair();

async function expectError(text: unknown, code: ErrorCode, expect_: Parameters<typeof openEntry>[1] = {}) {
  const r = await openEntry(text, expect_);
  expect(r.ok ? 'ok' : r.error.code).toBe(code);
}

describe('entries', () => {
  it('signs and opens, naming the entry by the hash of its whole text', async () => {
    const e = await createEntry(keys, { parent: null, comparable: 5, synod: null, payload: note('hi') });
    const r = await openEntry(e.text, { hash: e.hash, identity: keys.identity });
    if (!r.ok) throw new Error(`did not open: ${r.error.message}`);
    expect(r.value.hash).toBe(e.hash);
    expect(r.value.body.payload).toEqual(note('hi'));
    expect(r.value.size).toBe(utf8(e.text).length);
  });

  it('rebuilds a stored entry (trustedEntry) exactly as openEntry opened it', async () => {
    const e = await createEntry(keys, { parent: null, comparable: 5, synod: null, payload: note('日本 and 🦊') });
    const opened = await openEntry(e.text);
    expect(opened.ok && trustedEntry(e.hash, e.text)).toEqual(opened.ok && opened.value);
  });

  it('accepts one spelling only: whitespace, escapes and duplicate members are refused after the signature', async () => {
    const spaced = `{ "identity": "${keys.identity}", "parent": null, "comparable": 1, "synod": null, "payload": {"type": "public_note", "text": "x"} }`;
    await expectError(await signBody(keys, spaced), 'bad_encoding');
    const escaped = JSON.stringify({ identity: keys.identity, parent: null, comparable: 1, synod: null, payload: note('A') }).replace(
      '"A"',
      '"\\u0041"',
    );
    await expectError(await signBody(keys, escaped), 'bad_encoding');
    const dup = JSON.stringify({ identity: keys.identity, parent: null, comparable: 1, synod: null, payload: note('shown') }).replace(
      '{"type"',
      '{"text":"hidden","type"',
    );
    await expectError(await signBody(keys, dup), 'bad_encoding');
    const compact = JSON.stringify({ identity: keys.identity, parent: null, comparable: 1, synod: null, payload: note('x') });
    expect((await openEntry(await signBody(keys, compact))).ok).toBe(true);
  });

  it('refuses lone surrogates, raw or escaped', async () => {
    const body = JSON.stringify({ identity: keys.identity, parent: null, comparable: 1, synod: null, payload: note('\ud800') });
    expect(body).toContain('\\ud800');
    await expectError(await signBody(keys, body), 'bad_encoding');
    await expect(createEntry(keys, { parent: null, comparable: 1, synod: null, payload: note('\ud800') })).rejects.toThrow(/surrogate/);
  });

  it('accepts text that merely spells a surrogate escape (a literal backslash, then "ud800")', async () => {
    const e = await createEntry(keys, { parent: null, comparable: 1, synod: null, payload: note('\\ud800 and \\\\ud83d') });
    expect((await openEntry(e.text)).ok).toBe(true);
  });

  it('refuses to create an invalid or oversized entry', async () => {
    await expect(createEntry(keys, { parent: null, comparable: 0, synod: null, payload: note('x') })).rejects.toThrow();
    await expect(
      createEntry(keys, {
        parent: null,
        comparable: 1,
        synod: null,
        payload: { type: 'public_note', text: 'x'.repeat(LIMITS.entryBytes) },
      }),
    ).rejects.toThrow();
  });
});

describe('validation order: size, hash, signature, identity, schema', () => {
  it('too big before anything else', async () => {
    await expectError('x'.repeat(LIMITS.entryBytes + 1), 'too_big', { hash: fakeHash('x') });
    // multi-byte text: fewer characters than the limit, more bytes
    await expectError('日'.repeat(LIMITS.entryBytes / 3 + 1), 'too_big');
  });

  it('hash mismatch before signature', async () => {
    await expectError('garbage that is not signed', 'bad_hash', { hash: fakeHash('other') });
  });

  it('bad signature', async () => {
    const e = await createEntry(keys, { parent: null, comparable: 1, synod: null, payload: note('original') });
    await expectError(e.text.replace('original', 'tampered'), 'bad_signature');
    await expectError(e.text.slice(0, -2) + (e.text.endsWith('AA') ? 'AQ' : 'AA'), 'bad_signature');
  });

  it('a signature made by someone else for this identity', async () => {
    const body = JSON.stringify({ identity: keys.identity, parent: null, comparable: 1, synod: null, payload: note('forged') });
    await expectError(await signBody(other, body), 'bad_signature');
  });

  it('a session-domain signature is never an entry signature', async () => {
    const body = JSON.stringify({ identity: keys.identity, parent: null, comparable: 1, synod: null, payload: note('x') });
    const text = `${body}\n${await keys.sign('session', utf8(body))}`;
    await expectError(text, 'bad_signature');
  });

  it('identity mismatch after a valid signature', async () => {
    const e = await createEntry(keys, { parent: null, comparable: 1, synod: null, payload: note('x') });
    await expectError(e.text, 'wrong_identity', { identity: other.identity });
  });

  it('schema last: unknown payload type, unknown fields, bad values', async () => {
    const base = { identity: keys.identity, parent: null, comparable: 1, synod: null };
    await expectError(await signBody(keys, JSON.stringify({ ...base, payload: { type: 'poll', q: 1 } })), 'unknown_type');
    await expectError(await signBody(keys, JSON.stringify({ ...base, payload: note('x'), extra: 1 })), 'bad_schema');
    await expectError(await signBody(keys, JSON.stringify({ ...base, comparable: -1, payload: note('x') })), 'bad_schema');
    await expectError(await signBody(keys, JSON.stringify({ ...base, comparable: 1.5, payload: note('x') })), 'bad_schema');
    await expectError(await signBody(keys, JSON.stringify({ ...base, parent: 'nope', payload: note('x') })), 'bad_schema');
  });

  it('malformed frames get typed errors, never a throw', async () => {
    await expectError(42, 'bad_schema');
    await expectError('no signature here', 'bad_encoding');
    await expectError(`{"identity":"@x"}\n${'A'.repeat(86)}`, 'bad_key');
    await expectError(`not json\n${'A'.repeat(86)}`, 'bad_json');
    await expectError(`[1,2]\n${'A'.repeat(86)}`, 'bad_schema');
    await expectError(`{"a":"\ud800"}\n${'A'.repeat(86)}`, 'bad_encoding');
  });
});
