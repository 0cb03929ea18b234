#!/usr/bin/env node
// A VAPID key pair (RFC 8292) for Web Push: an ECDSA P-256 key made with
// WebCrypto. Put the public key and a subject in wrangler.toml [vars] and
// the private key in a Worker secret (docs/hosted.md §11):
//
//   node scripts/vapid-keys.mjs
//   npx wrangler secret put VAPID_PRIVATE_KEY     # paste the private key
const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
const { d } = await crypto.subtle.exportKey('jwk', pair.privateKey);
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
console.log(`VAPID_PUBLIC_KEY = "${b64url(raw)}"`);
console.log('VAPID_SUBJECT = "mailto:you@example.org"   # or an https: URL where push services can reach you');
console.log(`VAPID_PRIVATE_KEY (a secret: wrangler secret put VAPID_PRIVATE_KEY): ${d}`);
