import { describe, expect, it } from 'vitest';
import { canonicalEndpoint, generateKeyPair, newChallenge, signSession, verifySession } from '../../src/protocol/index.ts';

const a = await generateKeyPair();
const b = await generateKeyPair();
const endpoint = canonicalEndpoint('wss://Effigy.Example:443/room/lobby?x=1#y');

describe('session authentication', () => {
  it('canonicalizes endpoints so both sides sign the same bytes', () => {
    expect(endpoint).toBe('https://effigy.example/room/lobby');
    expect(canonicalEndpoint('ws://127.0.0.1:8787/room/a')).toBe('http://127.0.0.1:8787/room/a');
  });

  const ca = newChallenge();
  const cb = newChallenge();

  it("each side signs the other's challenge", async () => {
    const sig = await signSession(a, { endpoint, peer: b.identity, signerChallenge: ca, peerChallenge: cb });
    expect(await verifySession({ endpoint, signer: a.identity, peer: b.identity, signerChallenge: ca, peerChallenge: cb }, sig)).toBe(true);
  });

  it('cannot be replayed at another endpoint, reflected, or reused with a new challenge', async () => {
    const sig = await signSession(a, { endpoint, peer: b.identity, signerChallenge: ca, peerChallenge: cb });
    const base = { endpoint, signer: a.identity, peer: b.identity, signerChallenge: ca, peerChallenge: cb };
    expect(await verifySession({ ...base, endpoint: 'https://other.example/room/lobby' }, sig)).toBe(false);
    expect(await verifySession({ ...base, signer: b.identity, peer: a.identity, signerChallenge: cb, peerChallenge: ca }, sig)).toBe(false);
    expect(await verifySession({ ...base, peerChallenge: newChallenge() }, sig)).toBe(false);
    expect(await verifySession({ ...base, peer: (await generateKeyPair()).identity }, sig)).toBe(false);
  });

  it('rejects malformed fields without throwing', async () => {
    expect(await verifySession({ endpoint, signer: 'x', peer: b.identity, signerChallenge: ca, peerChallenge: cb }, 'A'.repeat(86))).toBe(
      false,
    );
    expect(
      await verifySession({ endpoint, signer: a.identity, peer: b.identity, signerChallenge: 'short', peerChallenge: cb }, 'A'.repeat(86)),
    ).toBe(false);
  });
});
