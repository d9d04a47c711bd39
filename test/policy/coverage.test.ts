import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type CompiledRole, compileRole, coverage, evaluate } from '../../policy/index.js';

const role = (allow: string[], deny: string[] = []) =>
  compileRole({ tenantId: 't', roleId: 'r', name: 'R', allow, deny, version: 1 });

/** The reference: written independently of the engine and of `coverage`. */
const matches = (p: string, a: string) => {
  if (p === '*') return true;
  const ps = p.split(':');
  const as = a.split(':');
  return ps.length === as.length && ps.every((s, i) => s === '*' || s === as[i]);
};
const allows = (r: CompiledRole, a: string) =>
  !r.deny.some((p) => matches(p, a)) && r.allow.some((p) => matches(p, a));

// Patterns use a, b, c; the universe adds d, a segment no pattern names. Every action is matched like
// one of this universe, so brute force over it decides coverage exactly.
const UNIVERSE = (() => {
  const segments = ['a', 'b', 'c', 'd'];
  const out: string[] = [];
  const grow = (prefix: string[]) => {
    if (prefix.length > 0) out.push(prefix.join(':'));
    if (prefix.length < 3) for (const s of segments) grow([...prefix, s]);
  };
  grow([]);
  return out;
})();
const bruteForceCovered = (holder: CompiledRole, target: CompiledRole) =>
  UNIVERSE.every((a) => !allows(target, a) || allows(holder, a));

const pattern = fc.oneof(
  { weight: 1, arbitrary: fc.constant('*') },
  {
    weight: 6,
    arbitrary: fc
      .array(fc.constantFrom('a', 'b', 'c', '*'), { minLength: 1, maxLength: 3 })
      .map((s) => s.join(':')),
  },
);
const patterns = (max: number) => fc.array(pattern, { maxLength: max });
const roleArb = fc.tuple(patterns(6), patterns(3)).map(([a, d]) => role(a, d));

describe('coverage: no one grants more than they hold', () => {
  test.prop([roleArb, roleArb], { numRuns: 2000 })(
    'agrees with brute force over a finite universe that is exact',
    (holder, target) => {
      expect(coverage(holder, target).covered).toBe(bruteForceCovered(holder, target));
    },
  );

  test.prop([roleArb, roleArb], { numRuns: 1000 })(
    'a gap names a target pattern and an example the target allows and the holder does not',
    (holder, target) => {
      const result = coverage(holder, target);
      if (result.covered) return;
      expect(target.allow).toContain(result.pattern);
      expect(matches(result.pattern, result.example)).toBe(true);
      expect(evaluate(target, result.example).effect).toBe('allow');
      expect(evaluate(holder, result.example).effect).toBe('deny');
      if (result.reason === 'denied') {
        expect(holder.deny).toContain(result.matched);
        expect(matches(result.matched as string, result.example)).toBe(true);
      } else expect(result.matched).toBeUndefined();
    },
  );

  test.prop([roleArb])('every role covers itself, and `*` covers every role', (r) => {
    expect(coverage(r, r).covered).toBe(true);
    expect(coverage(role(['*']), r).covered).toBe(true);
  });

  test.prop([roleArb, roleArb, roleArb])('coverage is transitive', (a, b, c) => {
    if (coverage(a, b).covered && coverage(b, c).covered) expect(coverage(a, c).covered).toBe(true);
  });

  it.each([
    // holder allow, holder deny, target allow, target deny, covered
    [['aircraft:*'], [], ['aircraft:read'], [], true],
    [['aircraft:read'], [], ['aircraft:*'], [], false],
    [['aircraft:read', 'aircraft:update'], [], ['aircraft:*'], [], false],
    [['*:read'], [], ['aircraft:read', 'billing:read'], [], true],
    [['*:read'], [], ['*'], ['*:*:*', '*:update'], false],
    [['aircraft:*'], ['aircraft:delete'], ['aircraft:*'], [], false],
    [['aircraft:*'], ['aircraft:delete'], ['aircraft:*'], ['aircraft:delete'], true],
    [['aircraft:*'], ['aircraft:delete'], ['aircraft:*'], ['*:delete'], true],
    [['*'], ['billing:*:*'], ['billing:invoice:read'], [], false],
    [['*'], ['billing:*:*'], ['billing:read'], [], true],
    [[], [], [], [], true],
    [[], [], ['aircraft:read'], ['aircraft:read'], true],
    [['*'], [], ['*'], [], true],
    [['*:*', '*:*:*', 'a'], [], ['*'], [], false],
  ])('holder %j deny %j vs target %j deny %j → covered %s', (ha, hd, ta, td, covered) => {
    expect(coverage(role(ha, hd), role(ta, td)).covered).toBe(covered);
  });

  it('names the uncovered pattern, why, and an example action', () => {
    expect(coverage(role(['aircraft:read']), role(['aircraft:read', 'aircraft:*']))).toEqual({
      covered: false,
      pattern: 'aircraft:*',
      reason: 'not-granted',
      example: 'aircraft:x0',
    });
    expect(coverage(role(['*'], ['members:remove']), role(['members:*']))).toEqual({
      covered: false,
      pattern: 'members:*',
      reason: 'denied',
      example: 'members:remove',
      matched: 'members:remove',
    });
  });

  it('the example segment is fresh even when the roles use x0', () => {
    const result = coverage(role(['x0:read']), role(['*:read']));
    expect(result).toMatchObject({ covered: false, example: 'x1:read' });
  });

  it('a gap names `matched` only for a deny: a not-granted gap has no such key', () => {
    const gap = coverage(role(['aircraft:read']), role(['aircraft:*']));
    expect(Object.keys(gap).sort()).toEqual(['covered', 'example', 'pattern', 'reason']);
    expect(Object.isFrozen(gap)).toBe(true);
  });

  it("without a holder, the example avoids the target's own segments (it is an action the target allows)", () => {
    expect(coverage(undefined, role(['a:*'], ['a:x0']))).toMatchObject({
      covered: false,
      example: 'a:x1',
    });
  });

  it('a missing holder role holds nothing', () => {
    expect(coverage(undefined, role([])).covered).toBe(true);
    expect(coverage(undefined, role(['a:read']))).toMatchObject({
      covered: false,
      reason: 'not-granted',
    });
  });

  it('stays fast on the largest roles (1,000 patterns each)', () => {
    const big = Array.from({ length: 1000 }, (_, i) => `s${i}:*:read`);
    const holder = role(
      ['*'],
      Array.from({ length: 1000 }, (_, i) => `d${i}:*:*`),
    );
    const target = role(big);
    // Correctness only (no timing assertion): every piece meets no deny, so it is covered.
    expect(coverage(holder, target).covered).toBe(true);
  });
});
