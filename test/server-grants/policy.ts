/**
 * The operator's policy the workers-grants project runs under
 * (vitest.config.ts): datalease for the members of one account, whose lease
 * quota is 1; dropbox collection for one allowed identity. The identities
 * are derived from these seeds (the test checks it), so the config can name
 * them without deriving keys.
 */
export const POLICY = {
  /** Seed 0x11 × 32: the member account (synod). */
  memberSynodSeed: 0x11,
  memberSynod: '@0EqyMnQrtKs6E2i9RhXk5tAiSrcaAWuvhSCjMsl3hzc',
  /** Seed 0x22 × 32: the identity allowed to collect from the dropbox. */
  allowedSeed: 0x22,
  allowed: '@oJql9HpnWYAv-VX43C0qFKXJnSO-l_hkEn_5ODRVpPA',
} as const;
