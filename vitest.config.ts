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
    // The default report, plus the skip check: every skip listed with its reason; on CI a skip
    // outside test/helpers/allowed-skips.ts fails the run.
    reporters: ['default', new SkipReporter()],
  },
});
