import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL("./web", import.meta.url));

// The Worker serves web/dist as static assets (wrangler.toml [assets]).
export default defineConfig({
  root,
  build: {
    outDir: "dist",
    emptyOutDir: true,
  },
});
