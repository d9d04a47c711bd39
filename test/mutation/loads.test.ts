/**
 * The security core loads. Every suite notices a module that throws while loading (all of its tests
 * fail to even start), but Stryker's vitest runner counts only tests that ran and failed: a mutant that
 * breaks a module at load time (an `Array(-1)` in a table built at load, say) would be reported as
 * survived. Importing inside a test turns such a crash into a failing test. Runs in `npm test` too.
 */
import { describe, expect, it } from 'vitest';

describe('the security core loads', () => {
  it.each([
    ['policy', () => import('../../policy/index.js')],
    ['authorizer', () => import('../../authorizer/index.js')],
    ['tenants', () => import('../../tenants/index.js')],
  ])('%s', async (_name, load) => {
    expect(Object.keys(await load()).length).toBeGreaterThan(0);
  });
});
