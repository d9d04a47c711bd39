/**
 * Setup file of the mutation runs (never of `npm test`): one fixed fast-check seed. @fast-check/vitest
 * writes the seed into each property's test name; with a fresh seed per run the names differ between
 * Stryker's dry run and its mutant runs, so per-test coverage finds no test and the mutant is wrongly
 * reported as survived (or run against every test). A fixed seed keeps names, and so the figures of
 * test/MUTATION.md, reproducible.
 */
import { fc } from '@fast-check/vitest';

fc.configureGlobal({ seed: 17 });
