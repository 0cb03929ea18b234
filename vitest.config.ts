import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { POLICY } from './test/server-grants/policy.ts';

// Four projects: plain Node for protocol/peer code; workerd (through
// Miniflare, with the bindings from wrangler.toml) for the Worker and its DO;
// the same under a restrictive grant policy (workers-grants); and e2e, the web client in Debian's Chromium (playwright-core) against a
// local `wrangler dev`. e2e runs after the others (groupOrder 1), one file at
// a time, in one worker (the build and the Worker are started once).
export default defineConfig(async () => {
  const migrations = await readD1Migrations('migrations');
  return {
    test: {
      reporters: ['default', './test/summary-reporter.ts'],
      projects: [
        {
          test: {
            name: 'node',
            environment: 'node',
            include: ['test/protocol/**/*.test.ts', 'test/peer/**/*.test.ts', 'test/node/**/*.test.ts'],
          },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              // Test-only binding: setup files cannot read the disk, so the
              // migrations travel in as data and are applied inside workerd.
              // Every test room is sharded 8 ways (wrangler.toml shards only "main"), so every test crosses shards.
              // Socket budgets and the idle time small enough for a test to reach (docs/hosted.md has the defaults);
              // UPLOAD_IDLE_SECONDS: a stalled upload is cut off in 2 s here, not 20 (test/server/blobs-abuse.test.ts).
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ROOM_SHARDS: '*=8',
                  ROOM_MAX_SOCKETS: '128',
                  ROOM_SOCKETS_PER_ADDRESS: '48',
                  ROOM_PENDING_PER_ADDRESS: '8',
                  ROOM_IDLE_SECONDS: '6',
                  UPLOAD_IDLE_SECONDS: '2',
                  FUZZ_RUNS: process.env.FUZZ_RUNS ?? '2000',
                },
              },
            }),
          ],
          test: {
            name: 'workers',
            include: ['test/server/**/*.test.ts'],
            setupFiles: ['test/server/apply-migrations.ts'],
          },
        },
        {
          // The same Worker under an operator's restrictive policy for services on request
          // (hosted/grants.ts): the identities in test/server-grants/policy.ts are its member and allowed ones.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ROOM_SHARDS: '*=8',
                  DATALEASE_GRANT: 'members',
                  DROPBOX_GRANT: 'allowlist',
                  GRANT_MEMBERS: `${POLICY.memberSynod}=1 not-an-identity`,
                  GRANT_ALLOW: POLICY.allowed,
                },
              },
            }),
          ],
          test: {
            name: 'workers-grants',
            include: ['test/server-grants/**/*.test.ts'],
            setupFiles: ['test/server/apply-migrations.ts'],
          },
        },
        {
          test: {
            name: 'e2e',
            environment: 'node',
            include: ['test/e2e/**/*.test.ts'],
            globalSetup: ['test/e2e/global-setup.ts'],
            testTimeout: 120_000,
            hookTimeout: 120_000,
            maxWorkers: 1,
            isolate: false,
            sequence: { groupOrder: 1 },
          },
        },
      ],
    },
  };
});
