import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Tests start real daemons (dockerd, podman) and build real ELF files: give them time.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
