import type { D1Migration } from 'cloudflare:test';

// Bindings that exist only under vitest (see vitest.config.ts).
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
    interface GlobalProps {
      mainModule: typeof import('../../src/server/index.ts');
      durableNamespaces: 'Room';
    }
  }
}
