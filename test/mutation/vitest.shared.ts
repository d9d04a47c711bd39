/**
 * The vitest config of one mutation group: only the fast (unit and property) suites that exercise it, so
 * Stryker's dry run and each mutant run stay short, and never a suite that starts Java or cognito-local.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const mutationVitestConfig = (include: string[], exclude: string[] = []) =>
  defineConfig({
    root: here('../..'),
    resolve: {
      // See fast-check-vitest.ts: the real package costs 10–20 s per test file to import.
      alias: { '@fast-check/vitest': here('./fast-check-vitest.ts') },
    },
    test: {
      include,
      exclude: [
        '**/node_modules/**',
        '**/*cognito-local*',
        '**/*dynamodb-local*',
        '**/*integration*',
        ...exclude,
      ],
      setupFiles: ['test/mutation/seed.setup.ts'],
      testTimeout: 30_000,
    },
  });
