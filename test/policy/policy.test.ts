import { describe, expect, it } from 'vitest';
import { type CompiledRole, DECISION_MEMO, type MemoisedRole } from '../../policy/compile.js';
import type { Decision } from '../../policy/evaluate.js';
import {
  actionProblem,
  assertAction,
  BuiltInRoleId,
  compileRole,
  evaluate,
  grantingPatterns,
  isPattern,
  isReservedRoleId,
  MAX_PATTERNS,
  PolicyError,
  PolicyValidationError,
} from '../../policy/index.js';

const issuesOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyValidationError);
    return (error as PolicyValidationError).issues;
  }
  throw new Error('expected a PolicyValidationError');
};

const role = (allow: string[], deny?: string[]) =>
  compileRole({
    tenantId: 'acme',
    roleId: 'pilot',
    name: 'Pilot',
    allow,
    ...(deny ? { deny } : {}),
    version: 1,
  });

describe('grammar', () => {
  it.each([
    ['aircraft', true],
    ['aircraft:update', true],
    ['billing:invoice:read', true],
    ['a-b_c:0x', true],
    ['', false],
    ['Aircraft', false],
    ['a:b:c:d', false],
    ['a::b', false],
    [':a', false],
    ['-a', false],
    ['a*', false],
    ['*', false],
    ['a:*', false],
    ['x'.repeat(129), false],
  ])('action %j valid: %s', (action, valid) => {
    expect(actionProblem(action) === undefined).toBe(valid);
  });

  it.each([
    ['*', true],
    ['aircraft:*', true],
    ['*:read', true],
    ['*:*:*', true],
    ['a*', false],
    ['**', false],
    ['a:?', false],
    ['*:*:*:*', false],
  ])('pattern %j valid: %s', (pattern, valid) => {
    expect(isPattern(pattern)).toBe(valid);
  });

  it('names the problem of each kind of bad action or pattern', () => {
    expect(actionProblem('a:b:c:d')).toBe('must have at most 3 segments separated by ":"');
    expect(actionProblem('a:B')).toBe('segment "B" must match [a-z0-9][a-z0-9_-]*');
    expect(actionProblem('a:B', true)).toBe('segment "B" must be "*" or match [a-z0-9][a-z0-9_-]*');
    expect(actionProblem('')).toBe('must not be empty');
    expect(actionProblem(7)).toBe('must be a string');
    const issues = issuesOf(() => assertAction('a:*'));
    expect(issues).toEqual([
      {
        field: 'action',
        value: 'a:*',
        message: '"a:*" segment "*" must match [a-z0-9][a-z0-9_-]*',
      },
    ]);
    expect(issuesOf(() => assertAction('', 'check')).map((i) => i.field)).toEqual(['check']);
  });

  it('says what is wrong with a bad action at the call site', () => {
    expect(() => assertAction('Aircraft:Update')).toThrow(
      /"Aircraft:Update" segment "Aircraft" must match/,
    );
    expect(() => evaluate(role(['*']), 'bad action')).toThrow(PolicyValidationError);
  });

  it('grantingPatterns: most specific first, `*` last, 2^n + 1 at most', () => {
    expect(grantingPatterns('a')).toEqual(['a', '*']);
    expect(grantingPatterns('a:b')).toEqual(['a:b', '*:b', 'a:*', '*:*', '*']);
    expect(grantingPatterns('a:b:c')).toHaveLength(9);
    expect(grantingPatterns('a:b:c')[0]).toBe('a:b:c');
  });
});

describe('decisions', () => {
  it.each([
    [['aircraft:update'], [], 'aircraft:update', 'allow', 'allowed', 'aircraft:update'],
    [['aircraft:*'], [], 'aircraft:update', 'allow', 'allowed', 'aircraft:*'],
    [['aircraft:*'], [], 'aircraft', 'deny', 'no-match', undefined],
    [['aircraft:*'], [], 'aircraft:a:b', 'deny', 'no-match', undefined],
    [['*'], [], 'billing:invoice:read', 'allow', 'allowed', '*'],
    [['*:read'], [], 'aircraft:read', 'allow', 'allowed', '*:read'],
    [['*'], ['aircraft:update'], 'aircraft:update', 'deny', 'explicit-deny', 'aircraft:update'],
    [['aircraft:update'], ['*'], 'aircraft:update', 'deny', 'explicit-deny', '*'],
    [['aircraft:update'], ['aircraft:*'], 'aircraft:read', 'deny', 'explicit-deny', 'aircraft:*'],
    [[], [], 'aircraft:read', 'deny', 'no-match', undefined],
  ])('allow %j deny %j, %s → %s (%s)', (allow, deny, action, effect, reason, matched) => {
    expect(evaluate(role(allow, deny), action)).toEqual({
      effect,
      reason,
      ...(matched ? { matched } : {}),
    });
  });

  it('an unknown role denies everything', () => {
    expect(evaluate(undefined, 'aircraft:read')).toEqual({
      effect: 'deny',
      reason: 'unknown-role',
    });
  });
});

describe('compileRole', () => {
  it('returns a frozen role with distinct patterns', () => {
    const r = role(['a:b', 'a:b', '*'], ['c']);
    expect(Object.isFrozen(r)).toBe(true);
    expect(r.allow).toEqual(['a:b', '*']);
    expect(r.deny).toEqual(['c']);
  });

  it('lists every bad entry, per field and index', () => {
    let error: unknown;
    try {
      compileRole({
        tenantId: 'a#b',
        roleId: 'Pilot!',
        name: '',
        allow: ['ok', 'Bad', 7],
        deny: 'x',
        version: -1,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyValidationError);
    const issues = (error as PolicyValidationError).issues.map((i) => `${i.field}${i.index ?? ''}`);
    expect(issues.sort()).toEqual(
      ['allow1', 'allow2', 'deny', 'name', 'roleId', 'tenantId', 'version'].sort(),
    );
  });

  it('limits pattern count and length', () => {
    const many = Array.from({ length: MAX_PATTERNS + 1 }, (_, i) => `p${i}`);
    expect(() => role(many)).toThrow(/at most 1000 patterns/);
    expect(() => role([`a${'x'.repeat(128)}`])).toThrow(/at most 128 characters/);
  });

  it('reports one issue for an over-long list, not one per entry', () => {
    const many = Array.from({ length: 100_000 }, () => 'Bad');
    expect(issuesOf(() => role(many, many)).map((i) => i.field)).toEqual(['allow', 'deny']);
  });

  it('reports the holes of a sparse list', () => {
    const sparse = ['a:read'];
    sparse[2] = 'b:read';
    expect(issuesOf(() => role(sparse))).toEqual([
      { field: 'allow', index: 1, value: undefined, message: 'undefined must be a string' },
    ]);
  });

  it('describes values JSON cannot print without crashing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(
      issuesOf(() => role([10n as never, cyclic as never, null as never])).map((i) => i.message),
    ).toEqual(['a bigint must be a string', 'an object must be a string', 'null must be a string']);
    expect(() => assertAction(10n)).toThrow(/a bigint must be a string/);
  });

  it('accepts the reserved built-in ids: they are ordinary roles to the engine', () => {
    expect(Object.values(BuiltInRoleId).filter(isReservedRoleId)).toEqual(['admin', 'member']);
    expect(isReservedRoleId('pilot')).toBe(false);
    const admin = compileRole({
      tenantId: 't',
      roleId: 'admin',
      name: 'A',
      allow: ['*'],
      version: 1,
    });
    expect(evaluate(admin, 'anything:at:all').effect).toBe('allow');
  });

  it('rejects a malformed action even for an unknown role: the call site is wrong either way', () => {
    expect(() => evaluate(undefined, 'a:b:c:d')).toThrow(PolicyValidationError);
  });

  it('names every field in the message, with the index of a list entry', () => {
    let error: unknown;
    try {
      compileRole({ tenantId: 'a#b', roleId: '_x', name: '', allow: ['ok', 'Bad'], version: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyValidationError);
    expect((error as Error).name).toBe('PolicyValidationError');
    expect((error as Error).message).toBe(
      [
        'invalid policy input:',
        '- tenantId: must match [A-Za-z0-9_-]{1,64}',
        '- roleId: must match [a-z0-9][a-z0-9_-]{0,63}',
        '- name: must be a non-empty string of at most 128 characters',
        '- allow[1]: "Bad" segment "Bad" must be "*" or match [a-z0-9][a-z0-9_-]*',
      ].join('\n'),
    );
    expect(new PolicyError('x')).toMatchObject({ name: 'PolicyError', message: 'x' });
  });

  it('a document that is no object is named as such, with every field it lacks', () => {
    expect(issuesOf(() => compileRole(null))).toEqual([
      { field: 'role', value: null, message: 'must be an object' },
      { field: 'tenantId', value: undefined, message: 'must match [A-Za-z0-9_-]{1,64}' },
      { field: 'roleId', value: undefined, message: 'must match [a-z0-9][a-z0-9_-]{0,63}' },
      {
        field: 'name',
        value: undefined,
        message: 'must be a non-empty string of at most 128 characters',
      },
      { field: 'version', value: undefined, message: 'must be a non-negative integer' },
      { field: 'allow', value: undefined, message: 'must be an array of patterns' },
    ]);
    expect(issuesOf(() => compileRole('role'))[0]?.field).toBe('role');
  });

  it.each([null, 1, 'role', [], {}])('rejects %j with PolicyValidationError', (doc) => {
    expect(() => compileRole(doc)).toThrow(PolicyValidationError);
  });
});

describe('the per-role decision memo', () => {
  it('answers a repeated action with the very same frozen decision', () => {
    const pilot = role(['aircraft:*'], ['aircraft:delete']);
    const first = evaluate(pilot, 'aircraft:update');
    expect(evaluate(pilot, 'aircraft:update')).toBe(first);
    expect(first).toEqual({ effect: 'allow', reason: 'allowed', matched: 'aircraft:*' });
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('remembers nothing invalid: a malformed action throws on every check', () => {
    const pilot = role(['*']);
    for (let i = 0; i < 3; i++)
      expect(() => evaluate(pilot, 'Bad Action')).toThrow(PolicyValidationError);
  });

  it('is per role: two roles never share a remembered decision', () => {
    const reader = role(['aircraft:read']);
    const writer = role(['aircraft:update']);
    expect(evaluate(reader, 'aircraft:read').effect).toBe('allow');
    expect(evaluate(writer, 'aircraft:read').effect).toBe('deny');
    expect(evaluate(reader, 'aircraft:update').effect).toBe('deny');
    expect(evaluate(writer, 'aircraft:update').effect).toBe('allow');
  });

  it('stays right past its bound (distinct actions beyond the limit start it over)', () => {
    const pilot = role(['res1:*'], ['res1:delete']);
    for (let i = 0; i < 3000; i++) {
      const action = `res${i % 1500}:${i % 2 ? 'read' : 'delete'}`;
      const expected = i % 1500 === 1 && i % 2 === 1 ? 'allow' : 'deny';
      expect(evaluate(pilot, action).effect).toBe(expected);
    }
  });

  // White-box: the memo changes no decision, so only its own state shows that it is read, written
  // and bounded (mutation testing found each of these could be switched off unnoticed).
  const memoOf = (r: CompiledRole) => (r as MemoisedRole)[DECISION_MEMO] as Map<string, Decision>;

  it('is read before deciding: a remembered decision is answered as remembered', () => {
    const pilot = role(['aircraft:read']);
    const planted: Decision = Object.freeze({ effect: 'deny', reason: 'no-match' });
    memoOf(pilot).set('aircraft:read', planted);
    expect(evaluate(pilot, 'aircraft:read')).toBe(planted);
  });

  it('remembers each distinct valid action, up to 1,024, then starts over', () => {
    const pilot = role(['res:*']);
    const memo = memoOf(pilot);
    for (let i = 0; i < 1024; i++) evaluate(pilot, `res:a${i}`);
    expect(memo.size).toBe(1024);
    evaluate(pilot, 'res:a0');
    expect(memo.size).toBe(1024);
    evaluate(pilot, 'res:new');
    expect([...memo.keys()]).toEqual(['res:new']);
  });

  it('leaves the role as it was: same keys, JSON and equality', () => {
    const a = role(['aircraft:read']);
    const b = role(['aircraft:read']);
    evaluate(a, 'aircraft:read');
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a).toEqual(b);
  });
});

describe('limits, at their boundaries', () => {
  it('an action or pattern of exactly 128 characters is valid, 129 is not', () => {
    const at = `${'a'.repeat(63)}:${'b'.repeat(64)}`;
    expect(at).toHaveLength(128);
    expect(actionProblem(at)).toBeUndefined();
    expect(actionProblem(`${at}c`)).toBe('must be at most 128 characters');
    expect(isPattern(`${'a'.repeat(126)}:*`)).toBe(true);
  });

  it('exactly MAX_PATTERNS patterns per list compile; one more does not', () => {
    const max = Array.from({ length: MAX_PATTERNS }, (_, i) => `p${i}`);
    expect(role(max, max).allow).toHaveLength(MAX_PATTERNS);
    expect(issuesOf(() => role([...max, 'extra']))).toEqual([
      { field: 'allow', message: 'must hold at most 1000 patterns, has 1001' },
    ]);
  });

  it('a name of 128 characters is valid, 129 is not; a blank name is not', () => {
    const named = (name: unknown) => () =>
      compileRole({ tenantId: 't', roleId: 'r', name, allow: [], version: 0 });
    expect(named('n'.repeat(128))().name).toHaveLength(128);
    expect(issuesOf(named('n'.repeat(129))).map((i) => i.field)).toEqual(['name']);
    expect(issuesOf(named(' \t')).map((i) => i.field)).toEqual(['name']);
    expect(issuesOf(named(7)).map((i) => i.field)).toEqual(['name']);
  });

  it('version 0 is valid; negative, fractional, unsafe or non-number versions are not', () => {
    const versioned = (version: unknown) => () =>
      compileRole({ tenantId: 't', roleId: 'r', name: 'R', allow: [], version });
    expect(versioned(0)().version).toBe(0);
    for (const bad of [-1, 0.5, 2 ** 53, '1', null])
      expect(issuesOf(versioned(bad)).map((i) => i.field)).toEqual(['version']);
  });

  // A regex test coerces its argument to a string: 12 would pass as "12" and null as "null".
  it.each([12, null, undefined, true, ['acme']])(
    'a tenantId or roleId that is no string (%j) is refused, not coerced',
    (value) => {
      const issues = issuesOf(() =>
        compileRole({ tenantId: value, roleId: value, name: 'R', allow: [], version: 1 }),
      );
      expect(issues.map((i) => i.field)).toEqual(['tenantId', 'roleId']);
    },
  );

  it('tenant and role ids: the alphabet and the length bounds', () => {
    const ids = (tenantId: string, roleId: string) => () =>
      compileRole({ tenantId, roleId, name: 'R', allow: [], version: 1 });
    expect(ids('T'.repeat(64), `r${'_'.repeat(63)}`)()).toMatchObject({
      roleId: `r${'_'.repeat(63)}`,
    });
    expect(issuesOf(ids('T'.repeat(65), `r${'-'.repeat(64)}`)).map((i) => i.field)).toEqual([
      'tenantId',
      'roleId',
    ]);
    expect(issuesOf(ids('', '_r')).map((i) => i.field)).toEqual(['tenantId', 'roleId']);
    expect(issuesOf(ids('a b', 'R')).map((i) => i.field)).toEqual(['tenantId', 'roleId']);
    // Anchored at both ends: junk before or after a valid id is refused.
    expect(issuesOf(ids('acme!', 'r!')).map((i) => i.field)).toEqual(['tenantId', 'roleId']);
    expect(issuesOf(ids('!acme', '!r')).map((i) => i.field)).toEqual(['tenantId', 'roleId']);
  });

  it('deny may be absent (no denies) but not null', () => {
    expect(
      compileRole({ tenantId: 't', roleId: 'r', name: 'R', allow: ['a'], version: 1 }).deny,
    ).toEqual([]);
    expect(
      issuesOf(() =>
        compileRole({
          tenantId: 't',
          roleId: 'r',
          name: 'R',
          allow: ['a'],
          deny: null,
          version: 1,
        }),
      ),
    ).toEqual([{ field: 'deny', value: null, message: 'must be an array of patterns' }]);
  });
});

describe('grantingPatterns: order and memo', () => {
  it('lists the patterns of a 3-segment action fewest wildcards first, in a fixed order', () => {
    expect(grantingPatterns('a:b:c')).toEqual([
      'a:b:c',
      '*:b:c',
      'a:*:c',
      'a:b:*',
      '*:*:c',
      '*:b:*',
      'a:*:*',
      '*:*:*',
      '*',
    ]);
    expect(Object.isFrozen(grantingPatterns('a:b:c'))).toBe(true);
  });

  it('a decision names the most specific allow that matched', () => {
    expect(evaluate(role(['*', '*:*:*', '*:b:c', 'a:b:*']), 'a:b:c')).toMatchObject({
      matched: '*:b:c',
    });
    expect(evaluate(role(['*', 'a:*:*', '*:*:c']), 'a:b:c')).toMatchObject({ matched: '*:*:c' });
  });

  // The memo is bounded at 10,000 actions (MEMO_LIMIT in policy/grammar.ts): at the limit it is
  // cleared, so distinct actions cannot grow memory. A memoised answer is the same frozen array.
  it('memoises up to 10,000 actions, then starts afresh', () => {
    let n = 0;
    const fresh = () => grantingPatterns(`memo-${n++}`);
    // Fill until the memo clears (others tests' actions share it), so its size is known: 1.
    const probe = grantingPatterns('memo-probe:first');
    while (grantingPatterns('memo-probe:first') === probe) fresh();
    expect(grantingPatterns('memo-probe:first')).toEqual(probe);
    // Now it holds 2: the action that cleared it and the probe just read again.
    const second = grantingPatterns('memo-probe:first');
    for (let i = 0; i < 9_998; i++) fresh();
    expect(grantingPatterns('memo-probe:first')).toBe(second);
    fresh();
    expect(grantingPatterns('memo-probe:first')).not.toBe(second);
    expect(n).toBeLessThan(30_000);
  });
});
