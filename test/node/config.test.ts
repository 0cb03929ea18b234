import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { unstable_readConfig } from 'wrangler';
import { describe, expect, it } from 'vitest';

// Guards the deploy wiring that no runtime test would notice until deploy.
const config = unstable_readConfig({ config: 'wrangler.toml' });

describe('wrangler.toml', () => {
  it('uses a compatibility date the installed workerd supports', () => {
    // workerd comes with wrangler/miniflare; resolve it from there.
    const fromMiniflare = createRequire(createRequire(import.meta.url).resolve('miniflare'));
    const { compatibilityDate } = fromMiniflare('workerd') as { compatibilityDate: string };
    expect(config.compatibility_date! <= compatibilityDate).toBe(true);
  });

  it('gives every Durable Object class a SQLite migration', () => {
    const sqlite = config.migrations.flatMap((m: { new_sqlite_classes?: string[] }) => m.new_sqlite_classes ?? []);
    expect(config.durable_objects.bindings.length).toBeGreaterThan(0);
    for (const binding of config.durable_objects.bindings) {
      expect(sqlite).toContain(binding.class_name);
    }
  });

  it('routes API, rooms and health to the Worker before assets', () => {
    expect(config.assets?.run_worker_first).toEqual(expect.arrayContaining(['/room/*', '/api/*', '/health']));
  });

  it('keeps telemetry off', () => {
    expect(config.send_metrics).toBe(false);
    expect(config.observability?.enabled).toBe(false);
  });
});

describe('D1 migrations', () => {
  it('are numbered 0001, 0002, … without gaps', () => {
    const dir = config.d1_databases[0]?.migrations_dir ?? 'migrations';
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    files.forEach((file, i) => {
      expect(file).toMatch(new RegExp(`^${String(i + 1).padStart(4, '0')}_[a-z0-9_]+\\.sql$`));
    });
  });
});
