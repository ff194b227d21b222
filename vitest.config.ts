import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Budgets, not speed claims: the shared 2-core machine runs at load 10 to 20 with several
    // suites at once, where a SAML sign-in test alone has taken over 20 s. A hang still fails.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files use their own Redis key prefixes, so they may run in parallel.
    pool: 'forks',
  },
});
