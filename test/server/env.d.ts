import type { D1Migration } from 'cloudflare:test';

// Bindings that exist only under vitest (see vitest.config.ts).
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** Cases of the frame fuzz (test/server/room-fuzz.test.ts): a few thousand in npm test, FUZZ_RUNS from npm run fuzz. */
      FUZZ_RUNS: string;
    }
    interface GlobalProps {
      mainModule: typeof import('../../src/server/index.ts');
      durableNamespaces: 'Room';
    }
  }
}
