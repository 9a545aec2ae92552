import { defineConfig } from 'vitest/config';
import SkipReporter from './test/helpers/skip-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Tests start real daemons (dockerd, podman) and build real ELF files: give them time.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two files at a time on the 2-core machines this runs on (the default is one fewer than the
    // cores): most of the time is spent waiting on engines, gcc and ldconfig, not in the worker.
    maxWorkers: 2,
    minWorkers: 1,
    // The default report, plus the skip check: every skip listed with its reason; on CI a skip
    // outside test/helpers/allowed-skips.ts fails the run.
    reporters: ['default', new SkipReporter()],
  },
});
