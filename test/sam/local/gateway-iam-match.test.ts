import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { InvalidLambdaResponseError } from '../../../sam/local/gateway/errors.js';
import {
  evaluatePolicy,
  matchesAction,
  matchesResource,
  parsePolicyDocument,
} from '../../../sam/local/gateway/iam-match.js';

const PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234';
const arn = (rest: string) => `${PREFIX}/${rest}`;

const policy = (...statements: Record<string, unknown>[]) =>
  parsePolicyDocument({ Version: '2012-10-17', Statement: statements });
const allow = (resource: string | string[], extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Action: 'execute-api:Invoke',
  Resource: resource,
  ...extra,
});
const deny = (resource: string | string[], extra: Record<string, unknown> = {}) => ({
  ...allow(resource, extra),
  Effect: 'Deny',
});

describe('matchesResource', () => {
  it.each([
    ['exact method ARN', arn('Prod/GET/me'), arn('Prod/GET/me'), true],
    ['stage-wide */*', arn('Prod/*/*'), arn('Prod/GET/me'), true],
    ['* spans /', arn('Prod/*/*'), arn('Prod/GET/aircraft/42/parts'), true],
    ['*/* covers the root resource', arn('Prod/*/*'), arn('Prod/GET/'), true],
    ['API-wide', arn('*'), arn('Prod/DELETE/aircraft/42'), true],
    ['any stage', arn('*/GET/me'), arn('Prod/GET/me'), true],
    ['everything', 'arn:aws:execute-api:*:*:*', arn('Prod/GET/me'), true],
    ['bare *', '*', arn('Prod/GET/me'), true],
    [
      'account wildcard',
      'arn:aws:execute-api:us-east-1:*:abcdef1234/Prod/GET/me',
      arn('Prod/GET/me'),
      true,
    ],
    ['other method', arn('Prod/GET/me'), arn('Prod/POST/me'), false],
    ['no prefix matching', arn('Prod/GET/me'), arn('Prod/GET/me/tenants'), false],
    ['other stage', arn('Prod/GET/me'), arn('Dev/GET/me'), false],
    ['stage is case-sensitive', arn('prod/GET/me'), arn('Prod/GET/me'), false],
    ['path is case-sensitive', arn('Prod/GET/Me'), arn('Prod/GET/me'), false],
    [
      'other account',
      'arn:aws:execute-api:us-east-1:999999999999:abcdef1234/*',
      arn('Prod/GET/me'),
      false,
    ],
    [
      'other API',
      'arn:aws:execute-api:us-east-1:123456789012:zzzzzz9999/*',
      arn('Prod/GET/me'),
      false,
    ],
    ['? is one character', arn('Prod/GET/aircraft/?'), arn('Prod/GET/aircraft/4'), true],
    ['? is not two', arn('Prod/GET/aircraft/?'), arn('Prod/GET/aircraft/42'), false],
    ['? may be a / in the resource', arn('Prod/GET?me'), arn('Prod/GET/me'), true],
    [
      'segment-final * crosses colons',
      'arn:*:us-east-1:123456789012:abcdef1234/*',
      arn('Prod/GET/me'),
      true,
    ],
    [
      'inner * stays in its segment',
      'arn:a*i:us-east-1:123456789012:abcdef1234/*',
      arn('Prod/GET/me'),
      false,
    ],
    [
      'inner * within a segment',
      'arn:aws:*-api:us-east-1:123456789012:abcdef1234/*',
      arn('Prod/GET/me'),
      true,
    ],
    [
      '? does not match a colon before the resource',
      'arn:aws?execute-api:us-east-1:123456789012:abcdef1234/*',
      arn('Prod/GET/me'),
      false,
    ],
    [
      'HTTP API $default stage',
      arn('$default/GET/aircraft/*'),
      arn('$default/GET/aircraft/7'),
      true,
    ],
  ])('%s', (_name, pattern, target, expected) => {
    expect(matchesResource(pattern, target)).toBe(expected);
  });
});

describe('matchesAction', () => {
  it.each([
    ['execute-api:Invoke', true],
    ['execute-api:*', true],
    ['*', true],
    ['EXECUTE-API:invoke', true],
    ['execute-api:Inv*', true],
    ['execute-api:InvalidateCache', false],
    ['s3:*', false],
  ])('%s', (pattern, expected) => {
    expect(matchesAction(pattern, 'execute-api:Invoke')).toBe(expected);
  });
});

describe('evaluatePolicy', () => {
  const me = arn('Prod/GET/me');
  it.each([
    ['allow', policy(allow(me)), 'allow'],
    ['allow from a list of resources', policy(allow([arn('Prod/GET/x'), me])), 'allow'],
    ['explicit deny wins over allow', policy(allow(arn('*')), deny(me)), 'explicit-deny'],
    ['deny elsewhere does not apply', policy(allow(arn('*')), deny(arn('Prod/POST/*'))), 'allow'],
    ['nothing applies: implicit deny', policy(allow(arn('Prod/GET/other'))), 'implicit-deny'],
    ['empty statement list', parsePolicyDocument({ Statement: [] }), 'implicit-deny'],
    ['Statement as one object', parsePolicyDocument({ Statement: allow(me) }), 'allow'],
    [
      'another action does not allow',
      policy({ ...allow(me), Action: 'execute-api:InvalidateCache' }),
      'implicit-deny',
    ],
    [
      'NotResource',
      policy({ Effect: 'Allow', Action: '*', NotResource: arn('Prod/POST/*') }),
      'allow',
    ],
    [
      'NotResource excludes',
      policy({ Effect: 'Allow', Action: '*', NotResource: arn('Prod/GET/*') }),
      'implicit-deny',
    ],
    [
      'NotAction',
      policy({ Effect: 'Deny', NotAction: 'execute-api:InvalidateCache', Resource: '*' }),
      'explicit-deny',
    ],
    // A Condition cannot be evaluated locally: fail closed both ways.
    [
      'conditional allow does not apply',
      policy(allow(me, { Condition: { IpAddress: {} } })),
      'implicit-deny',
    ],
    [
      'conditional deny applies',
      policy(allow(me), deny(me, { Condition: { IpAddress: {} } })),
      'explicit-deny',
    ],
  ])('%s', (_name, document, expected) => {
    expect(evaluatePolicy(document, me)).toBe(expected);
  });

  it.each([
    ['not an object', 'Allow'],
    ['no Statement', { Version: '2012-10-17' }],
    ['lower-case effect', { Statement: [{ ...allow('*'), Effect: 'allow' }] }],
    ['no Action', { Statement: [{ Effect: 'Allow', Resource: '*' }] }],
    ['Action and NotAction', { Statement: [{ ...allow('*'), NotAction: '*' }] }],
    ['numeric Resource', { Statement: [{ ...allow('*'), Resource: 42 }] }],
    ['empty Resource list', { Statement: [{ ...allow('*'), Resource: [] }] }],
    ['statement not an object', { Statement: ['Allow'] }],
  ])('rejects a malformed document: %s', (_name, document) => {
    expect(() => parsePolicyDocument(document)).toThrow(InvalidLambdaResponseError);
  });
});

describe('wildcard properties', () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/);
  const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE');
  const resource = fc
    .record({
      stage: segment,
      method,
      path: fc.array(segment, { minLength: 0, maxLength: 5 }),
    })
    .map(({ stage, method: m, path }) => ['abcdef1234', stage, m, ...path]);
  const full = (parts: string[]) => `arn:aws:execute-api:us-east-1:123456789012:${parts.join('/')}`;

  test.prop([resource, fc.array(fc.boolean(), { minLength: 9, maxLength: 9 })], { numRuns: 200 })(
    'replacing any segments of the resource with * still matches it',
    (parts, mask) => {
      const pattern = parts.map((p, i) => (mask[i] ? '*' : p));
      expect(matchesResource(full(pattern), full(parts))).toBe(true);
    },
  );

  test.prop([resource, fc.nat(), fc.nat()], { numRuns: 200 })(
    'one * over a run of segments (across "/") still matches',
    (parts, a, b) => {
      const from = a % parts.length;
      const to = from + (b % (parts.length - from));
      const pattern = [...parts.slice(0, from), '*', ...parts.slice(to + 1)];
      expect(matchesResource(full(pattern), full(parts))).toBe(true);
    },
  );

  test.prop([resource, fc.nat()], { numRuns: 200 })(
    'replacing any one character with ? still matches',
    (parts, n) => {
      const text = parts.join('/');
      const i = n % text.length;
      const pattern = `${text.slice(0, i)}?${text.slice(i + 1)}`;
      expect(matchesResource(full(pattern.split('/')), full(parts))).toBe(true);
    },
  );

  test.prop([resource, method], { numRuns: 200 })(
    'a pattern naming another method never matches',
    (parts, other) => {
      fc.pre(other !== parts[2]);
      const pattern = [...parts];
      pattern[2] = other;
      expect(matchesResource(full(pattern), full(parts))).toBe(false);
    },
  );
});
