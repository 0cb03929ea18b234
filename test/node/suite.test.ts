/**
 * The suite itself: every test runs, every run. A missing prerequisite is a
 * failure that says what to install (scripts/prereqs.mjs installs it first
 * under `npm test`), never a skip; so no file may skip, focus or defer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TEST_DIR = fileURLToPath(new URL('..', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|tsx|mjs|js)$/.test(e.name) && path !== THIS_FILE ? [path] : [];
  });
}

// `.skip(`, `.skipIf(`, `.runIf(`, `.todo(`, `.only(` on anything (it, describe, ctx, …), and the x/f aliases.
const SKIPPING = /\.(?:skip|skipIf|runIf|todo|only)\s*\(|\b(?:xit|xtest|xdescribe|fit|fdescribe)\s*\(/;

describe('the test suite', () => {
  it('has no skipped, conditional, deferred or focused tests', () => {
    const files = sources(TEST_DIR);
    expect(files.length).toBeGreaterThan(40);
    const found = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (SKIPPING.test(line) ? [`${relative(TEST_DIR, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });

  it('the check above would see a skip', () => {
    for (const line of ["describe.skipIf(!ready())('x', () => {", '    ctx.skip();', "it.todo('later')", "it.only('this')"]) {
      expect(SKIPPING.test(line), line).toBe(true);
    }
    expect(SKIPPING.test("const skipped = ['a'];")).toBe(false);
  });
});
