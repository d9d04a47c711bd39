/**
 * authorizer/deadline.ts on its own. Written for survivors of `npm run mutate authorizer` on main:
 * the bounds of a usable time limit and the timer cleared once the work settles.
 */
import { describe, expect, it } from 'vitest';
import { isTimeoutMs, withTimeout } from '../../authorizer/deadline.js';
import { DependencyTimeoutError } from '../../authorizer/errors.js';

const pendingTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('isTimeoutMs', () => {
  it('accepts whole milliseconds from 1 to 60,000 and nothing else', () => {
    for (const ok of [1, 2, 1000, 59_999, 60_000]) expect(isTimeoutMs(ok)).toBe(true);
    for (const bad of [0, -1, 60_001, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5', null])
      expect(isTimeoutMs(bad)).toBe(false);
  });
});

describe('withTimeout', () => {
  it('clears its timer as soon as the work settles, either way: a frozen environment keeps none', async () => {
    const before = pendingTimers();
    await expect(withTimeout('x', 60_000, async () => 'done')).resolves.toBe('done');
    expect(pendingTimers()).toBe(before);
    await expect(
      withTimeout('x', 60_000, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(pendingTimers()).toBe(before);
  });

  it('a work that throws before returning a promise is a rejection, its timer cleared', async () => {
    const before = pendingTimers();
    const failing = (() => {
      throw new Error('sync');
    }) as unknown as (signal: AbortSignal) => Promise<never>;
    await expect(withTimeout('x', 60_000, failing)).rejects.toThrow('sync');
    expect(pendingTimers()).toBe(before);
  });

  it('past the limit: DependencyTimeoutError naming the dependency, and the work is aborted', async () => {
    let signal: AbortSignal | undefined;
    const error = await withTimeout('JWKS', 5, (s) => {
      signal = s;
      return new Promise<never>(() => {});
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyTimeoutError);
    expect((error as Error).message).toContain('JWKS');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(error);
  });
});
