import type { Reporter, SerializedError, TestModule } from 'vitest/node';

// Ends the run with one plain "Tests: N passed, N failed, N skipped" line,
// the form CI reads to tell a real run from one that executed no test. The
// suite has no skips (test/node/suite.test.ts keeps it so); a test that does
// not run anyway (a `-t` filter, a file that failed to load) is named here,
// never silent, and so are errors outside any test.
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const skipped: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'failed') {
          count[state]++;
        } else {
          count.skipped++;
          skipped.push(`${module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}`);
        }
      }
    }
    // A file that failed to load (an import error, a throwing hook) has no
    // tests to count: without this line the summary would read "0 failed".
    const brokenFiles = modules
      .filter((m) => m.state() === 'failed' || m.errors().length > 0)
      .filter((m) => ![...m.children.allTests()].some((t) => t.result().state === 'failed'))
      .map((m) => m.moduleId.replace(`${process.cwd()}/`, ''));
    const lines = [''];
    if (brokenFiles.length > 0) {
      lines.push(`Files that failed outside their tests (${brokenFiles.length}):`, ...brokenFiles.map((f) => `  ${f}`));
    }
    if (skipped.length > 0) {
      lines.push(`Not run (${skipped.length}):`, ...skipped.slice(0, 20).map((s) => `  ${s}`));
      if (skipped.length > 20) lines.push(`  … and ${skipped.length - 20} more`);
    }
    const errors = unhandledErrors.length > 0 ? ` (and ${unhandledErrors.length} error(s) outside any test: the run failed)` : '';
    const files = brokenFiles.length > 0 ? `, ${brokenFiles.length} file(s) failed` : '';
    lines.push(`Tests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped${files}${errors}`);
    console.log(lines.join('\n'));
  }
}
