import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites start Java (DynamoDB Local) and cognito-local; on 2 cores they need room.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
