import { describe, expect, it } from 'vitest';
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

  it('leaves the role as it was: same keys, JSON and equality', () => {
    const a = role(['aircraft:read']);
    const b = role(['aircraft:read']);
    evaluate(a, 'aircraft:read');
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a).toEqual(b);
  });
});
