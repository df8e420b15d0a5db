import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // dist/ is built here, outside any test's time limit (test/support/build.ts).
    globalSetup: ['./test/support/build.ts'],
    // The skip reporter prints its list and count before the runner's closing summary.
    reporters: ['./test/support/skip-reporter.ts', 'default'],
  },
});
