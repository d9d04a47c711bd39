import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  compileRole,
  evaluate,
  grantingPatterns,
  isAction,
  isPattern,
  PolicyValidationError,
} from '../../policy/index.js';

// A small alphabet so that random patterns actually hit random actions.
const segment = fc.constantFrom('a', 'b', 'c');
const action = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join(':'));
const pattern = fc.oneof(
  fc.constant('*'),
  fc
    .array(fc.constantFrom('a', 'b', 'c', '*'), { minLength: 1, maxLength: 3 })
    .map((s) => s.join(':')),
);
const patterns = fc.array(pattern, { maxLength: 8 });

/** The reference matcher: segment-wise comparison, written independently of the engine. */
const matches = (p: string, a: string) => {
  if (p === '*') return true;
  const ps = p.split(':');
  const as = a.split(':');
  return ps.length === as.length && ps.every((s, i) => s === '*' || s === as[i]);
};
const reference = (allow: string[], deny: string[], a: string) =>
  deny.some((p) => matches(p, a)) ? 'deny' : allow.some((p) => matches(p, a)) ? 'allow' : 'deny';

const compile = (allow: string[], deny: string[] = []) =>
  compileRole({ tenantId: 't', roleId: 'r', name: 'R', allow, deny, version: 0 });

describe('policy properties', () => {
  test.prop([action])('an exact grant allows', (a) => {
    expect(evaluate(compile([a]), a).effect).toBe('allow');
  });

  test.prop([patterns, action])('deny overrides allow', (allow, a) => {
    expect(evaluate(compile([...allow, a], [a]), a)).toMatchObject({
      effect: 'deny',
      reason: 'explicit-deny',
    });
  });

  test.prop([action])('an empty role denies all', (a) => {
    expect(evaluate(compile([]), a)).toEqual({ effect: 'deny', reason: 'no-match' });
  });

  test.prop([patterns, patterns, action])(
    'order and duplicates do not matter',
    (allow, deny, a) => {
      const one = evaluate(compile(allow, deny), a).effect;
      const other = evaluate(
        compile([...allow, ...allow].reverse(), [...deny].reverse()),
        a,
      ).effect;
      expect(other).toBe(one);
    },
  );

  test.prop([patterns, patterns, pattern, action])(
    'adding an allow never removes access; adding a deny never adds any',
    (allow, deny, extra, a) => {
      const before = evaluate(compile(allow, deny), a).effect;
      if (before === 'allow')
        expect(evaluate(compile([...allow, extra], deny), a).effect).toBe('allow');
      if (before === 'deny')
        expect(evaluate(compile(allow, [...deny, extra]), a).effect).toBe('deny');
    },
  );

  test.prop([patterns, patterns, action], { numRuns: 500 })(
    'evaluate equals the reference matcher',
    (allow, deny, a) => {
      expect(evaluate(compile(allow, deny), a).effect).toBe(reference(allow, deny, a));
    },
  );

  test.prop([patterns, patterns, fc.array(action, { minLength: 1, maxLength: 30 })], {
    numRuns: 300,
  })(
    'a role remembers decisions: repeated checks equal the reference, in any order',
    (allow, deny, actions) => {
      const role = compile(allow, deny);
      // Every action twice, interleaved: the second check of each is answered by the role's memo.
      for (const a of [...actions, ...actions.reverse()]) {
        expect(evaluate(role, a).effect).toBe(reference(allow, deny, a));
      }
    },
  );

  test.prop([action])('grantingPatterns(a) is exactly the set of patterns that match a', (a) => {
    const all = new Set<string>(['*']);
    for (const n of [1, 2, 3]) {
      const build = (prefix: string[]): void => {
        if (prefix.length === n) {
          all.add(prefix.join(':'));
          return;
        }
        for (const s of ['a', 'b', 'c', '*']) build([...prefix, s]);
      };
      build([]);
    }
    const expected = [...all].filter((p) => matches(p, a)).sort();
    expect([...grantingPatterns(a)].sort()).toEqual(expected);
    expect(grantingPatterns(a).length).toBeLessThanOrEqual(2 ** a.split(':').length + 1);
  });

  test.prop(
    [
      fc.record(
        {
          tenantId: fc.oneof(fc.constant('t'), fc.anything({ withBigInt: true })),
          roleId: fc.oneof(fc.constant('r'), fc.anything({ withBigInt: true })),
          name: fc.oneof(fc.constant('R'), fc.anything({ withBigInt: true })),
          allow: fc.oneof(patterns, fc.array(fc.anything({ withBigInt: true }), { maxLength: 3 })),
          deny: fc.oneof(patterns, fc.anything({ withBigInt: true })),
          version: fc.oneof(fc.nat(), fc.anything({ withBigInt: true })),
        },
        { requiredKeys: [] },
      ),
    ],
    { numRuns: 300 },
  )(
    'arbitrary documents compile or fail with PolicyValidationError, never another crash',
    (doc) => {
      try {
        const role = compileRole(doc);
        expect(Object.isFrozen(role)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(PolicyValidationError);
        expect((error as PolicyValidationError).issues.length).toBeGreaterThan(0);
      }
    },
  );

  test.prop([fc.oneof(fc.string(), fc.stringMatching(/^[a-z*:0-9_-]{0,12}$/))], { numRuns: 1000 })(
    'arbitrary strings are either valid patterns or rejected with PolicyValidationError',
    (s) => {
      try {
        compile([s]);
        expect(isPattern(s)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(PolicyValidationError);
        expect(isPattern(s)).toBe(false);
      }
      // As an action: granting patterns or a PolicyValidationError, likewise.
      try {
        expect(grantingPatterns(s)[0]).toBe(s);
        expect(isAction(s)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(PolicyValidationError);
        expect(isAction(s)).toBe(false);
      }
    },
  );
});
