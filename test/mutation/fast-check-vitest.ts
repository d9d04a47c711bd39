/**
 * Stand-in for `@fast-check/vitest` in the mutation runs only (`npm test` uses the real package).
 *
 * Why: with vitest 4.1, importing @fast-check/vitest 0.5.0 takes 10–20 s per test file on this machine
 * (its `buildTest` enriches every chain of vitest's chainable `test` recursively, and vitest 4.1 has
 * many chain keys); Stryker re-imports the test files on every mutant run, so that import alone made
 * a run of the policy group take an hour.
 *
 * Same contract for what our tests use: `fc`, and `test.prop([arbitraries], params)(name, fn)`
 * running `fc.assert` over an async property with the global seed (test/mutation/seed.setup.ts), the
 * name suffixed with ` (with seed=N)` as the real package does. Unlike it, vitest's beforeEach and
 * afterEach hooks are not re-run between a property's runs (none of the suites in the mutation
 * groups relies on that: their properties build their own state).
 */
import * as fc from 'fast-check';
import { test as vitestTest } from 'vitest';

type Prop = (...args: never[]) => unknown;

const prop =
  (arbitraries: fc.Arbitrary<unknown>[], params: fc.Parameters<unknown[]> = {}) =>
  (name: string, body: Prop, timeout?: number) => {
    const seed = params.seed ?? fc.readConfigureGlobal().seed ?? 17;
    const asyncProperty = fc.asyncProperty as unknown as (
      ...args: unknown[]
    ) => fc.IAsyncProperty<unknown[]>;
    const property = asyncProperty(...arbitraries, async (...values: unknown[]) =>
      (body as (...args: unknown[]) => unknown)(...values),
    );
    vitestTest(
      `${name} (with seed=${seed})`,
      () => fc.assert(property, { ...params, seed }),
      timeout,
    );
  };

const test = Object.assign(vitestTest, { prop });

export { fc, test, test as it };
