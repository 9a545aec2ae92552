// A vitest reporter (added next to the default one in vitest.config.ts) that lists every skipped
// test with its reason at the end of a run, and on CI (CI=true) fails the run when a skipped test
// is not on the list in test/helpers/allowed-skips.ts. Runs that select tests by name (-t) are
// not judged: their other tests are skipped by the filter.
import { relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { isAllowedSkip, onCI } from './allowed-skips.js';

export default class SkipReporter implements Reporter {
  private root = process.cwd();
  private filtered = false;

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
    this.filtered = Boolean(vitest.config.testNamePattern);
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: Array<{ file: string; name: string; note?: string; allowed: boolean }> = [];
    for (const module of testModules) {
      const file = relative(this.root, module.moduleId);
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state !== 'skipped') continue;
        skipped.push({ file, name: test.fullName, note: result.note, allowed: isAllowedSkip(file, test.fullName) });
      }
    }
    if (skipped.length === 0 || this.filtered) return;
    const lines = skipped.map((s) => `  ${s.allowed ? 'listed  ' : 'UNLISTED'} ${s.file} > ${s.name}${s.note ? ` [${s.note}]` : ''}`);
    const unlisted = skipped.filter((s) => !s.allowed);
    if (onCI && unlisted.length > 0) {
      process.stderr.write(`\nskip check: ${unlisted.length} test(s) skipped on CI outside test/helpers/allowed-skips.ts:\n${lines.join('\n')}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`\nskipped tests (${skipped.length}${onCI ? '' : '; with CI=true the unlisted ones fail the run'}):\n${lines.join('\n')}\n`);
    }
  }
}
