/**
 * StrykerJS options shared by the three mutation groups (policy/, authorizer/, tenants/). Each group is
 * its own run with its own small vitest config (test/mutation/vitest.<group>.config.ts): Stryker 9.6's
 * `testFiles` option switches static mutants on too late, so they would always survive.
 * Stryker 9.6.x, not 10: 10 needs Node 22 and this project's machines run Node 20.
 * Not part of CI (`npm test`); run it with `npm run mutate` (see test/MUTATION.md).
 */
export const mutationGroup = (group, mutate) => ({
  $schema: '../../node_modules/@stryker-mutator/core/schema/stryker-schema.json',
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: `test/mutation/vitest.${group}.config.ts`, related: false },
  mutate,
  coverageAnalysis: 'perTest',
  // The machine has 2 cores shared with other engineers: at most 2 workers, and `nice` (npm run mutate).
  concurrency: 2,
  // Re-runs test only mutants whose code or covering tests changed; delete reports/ for a full run.
  incremental: true,
  incrementalFile: `reports/mutation/${group}.incremental.json`,
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${group}.json` },
  htmlReporter: { fileName: `reports/mutation/${group}.html` },
  tempDirName: `.stryker-tmp/${group}`,
  cleanTempDir: 'always',
  // Thresholds of the issue: under 90% the group fails.
  thresholds: { high: 95, low: 90, break: 90 },
  ignorePatterns: [
    'reports',
    '.local',
    '.aws-sam',
    'dist',
    'coverage',
    '.cognito',
    'bench/results*',
  ],
});
