import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    // The default report, then the checks skipped for a missing tool and why.
    reporters: ['default', './test/support/skipped-checks-reporter.ts'],
    // Integration tests share one moto server; separate files use separate
    // resource names, so files may run in parallel but 2 cores is the budget.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
