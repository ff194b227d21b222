import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Test files use their own Redis key prefixes, so they may run in parallel.
    pool: 'forks',
  },
});
