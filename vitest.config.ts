import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects: plain Node for protocol/peer code, and workerd (through
// Miniflare, with the bindings from wrangler.toml) for the Worker and its DO.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    test: {
      reporters: ["default", "./test/summary-reporter.ts"],
      projects: [
        {
          test: {
            name: "node",
            environment: "node",
            include: [
              "test/protocol/**/*.test.ts",
              "test/peer/**/*.test.ts",
              "test/node/**/*.test.ts",
            ],
          },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              // Test-only binding: setup files cannot read the disk, so the
              // migrations travel in as data and are applied inside workerd.
              miniflare: { bindings: { TEST_MIGRATIONS: migrations } },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/server/**/*.test.ts"],
            setupFiles: ["test/server/apply-migrations.ts"],
          },
        },
      ],
    },
  };
});
