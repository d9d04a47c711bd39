/**
 * The pure IAM evaluator of the isolation layer: the tenant data role's LeadingKeys statement exactly
 * as template.yaml declares it (after !Sub), then the IAM semantics it relies on, then properties.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { IamPolicyError } from '../../../sam/local/isolation/errors.js';
import {
  createIamEvaluator,
  evaluateIamPolicy,
  type IamContextValue,
  type IamPolicyDocument,
  type IamStatement,
  principalTagContext,
  validateIamPolicy,
} from '../../../sam/local/isolation/iam.js';

const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/tenantgate';

/** TenantDataRole's statement as the template will have it once CloudFormation resolved !Sub. */
const TENANT_ROLE: IamPolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'TenantScopedItems',
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
      ],
      Resource: [TABLE, `${TABLE}/index/*`],
      Condition: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [
            `TENANT#\${aws:PrincipalTag/tenant_id}`,
            `TENANT#\${aws:PrincipalTag/tenant_id}#*`,
            `USER#\${aws:PrincipalTag/user_id}`,
          ],
        },
      },
    },
  ],
};
const tenantRole = createIamEvaluator(TENANT_ROLE);

const judge = (
  action: string,
  leadingKeys: readonly string[] | undefined,
  tags: Record<string, string>,
  resource = TABLE,
) =>
  tenantRole.evaluate({
    action,
    resource,
    context: {
      ...principalTagContext(tags),
      ...(leadingKeys === undefined ? {} : { 'dynamodb:LeadingKeys': leadingKeys }),
    },
  }).decision;

const a = { tenant_id: 'a', user_id: 'u1' };

describe("the tenant data role's LeadingKeys statement", () => {
  it.each<[string, string, string[], Record<string, string>, string]>([
    ['own tenant partition', 'dynamodb:GetItem', ['TENANT#a'], a, 'allow'],
    ['own tenant sub-partition', 'dynamodb:PutItem', ['TENANT#a#x'], a, 'allow'],
    ['own tenant, deeper', 'dynamodb:UpdateItem', ['TENANT#a#ROLE#admin'], a, 'allow'],
    ['own user partition', 'dynamodb:Query', ['USER#u1'], a, 'allow'],
    [
      'a batch of own keys',
      'dynamodb:BatchGetItem',
      ['TENANT#a', 'TENANT#a#1', 'USER#u1'],
      a,
      'allow',
    ],
    ['a condition check on an own key', 'dynamodb:ConditionCheckItem', ['TENANT#a'], a, 'allow'],
    ["another tenant's key", 'dynamodb:GetItem', ['TENANT#b'], a, 'implicit-deny'],
    ["another tenant's sub-partition", 'dynamodb:DeleteItem', ['TENANT#b#x'], a, 'implicit-deny'],
    ['a prefix-sharing tenant (a vs ab)', 'dynamodb:GetItem', ['TENANT#ab'], a, 'implicit-deny'],
    ['a prefix-sharing sub-partition', 'dynamodb:GetItem', ['TENANT#ab#x'], a, 'implicit-deny'],
    ['a different case', 'dynamodb:GetItem', ['tenant#a'], a, 'implicit-deny'],
    ['a key that only contains ours', 'dynamodb:GetItem', ['XTENANT#a'], a, 'implicit-deny'],
    ["another user's partition", 'dynamodb:Query', ['USER#u2'], a, 'implicit-deny'],
    ['a mixed batch', 'dynamodb:BatchWriteItem', ['TENANT#a', 'TENANT#b'], a, 'implicit-deny'],
    ['an empty key', 'dynamodb:GetItem', [''], a, 'implicit-deny'],
    ['Scan (never granted)', 'dynamodb:Scan', [], a, 'implicit-deny'],
    ['an action not granted', 'dynamodb:DeleteTable', ['TENANT#a'], a, 'implicit-deny'],
    ['PartiQL (not granted)', 'dynamodb:PartiQLSelect', ['TENANT#a'], a, 'implicit-deny'],
    ['a missing tenant tag', 'dynamodb:GetItem', ['TENANT#a'], { user_id: 'u1' }, 'implicit-deny'],
    ['no tags at all', 'dynamodb:GetItem', ['USER#u1'], {}, 'implicit-deny'],
  ])('%s → %s', (_name, action, keys, tags, expected) => {
    expect(judge(action, keys, tags)).toBe(expected);
  });

  it('a missing tag fails the whole condition, even for a key another value would allow', () => {
    // IAM: with a variable that has no value, a positive operator does not match and the statement
    // does not take effect — so the user partition is refused too while tenant_id is missing.
    expect(judge('dynamodb:GetItem', ['USER#u1'], { user_id: 'u1' })).toBe('implicit-deny');
  });

  it('covers the indexes and only this table, region and account', () => {
    expect(judge('dynamodb:Query', ['TENANT#a'], a, `${TABLE}/index/GSI1`)).toBe('allow');
    for (const resource of [
      'arn:aws:dynamodb:us-east-1:123456789012:table/other',
      'arn:aws:dynamodb:us-east-1:123456789012:table/tenantgate-copy',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/tenantgate',
      'arn:aws:dynamodb:us-east-1:210987654321:table/tenantgate',
      `${TABLE}/stream/2024-01-01T00:00:00.000`,
      '*',
    ]) {
      expect(judge('dynamodb:GetItem', ['TENANT#a'], a, resource), resource).toBe('implicit-deny');
    }
  });

  it('compares action names case-insensitively, as IAM does', () => {
    expect(judge('DynamoDB:getitem', ['TENANT#a'], a)).toBe('allow');
  });

  it('inserts tag values literally: a tag holding * or ? is not a wildcard', () => {
    expect(judge('dynamodb:GetItem', ['TENANT#b'], { tenant_id: '*', user_id: 'x' })).toBe(
      'implicit-deny',
    );
    expect(judge('dynamodb:GetItem', ['TENANT#*'], { tenant_id: '*', user_id: 'x' })).toBe('allow');
    expect(judge('dynamodb:GetItem', ['TENANT#b'], { tenant_id: '?', user_id: 'x' })).toBe(
      'implicit-deny',
    );
  });

  it('is why Scan must never be granted: ForAllValues over no leading keys is true', () => {
    // The same statement with Scan added: IAM would let a tenant read every partition.
    const statement = (TENANT_ROLE.Statement as IamStatement[])[0] as IamStatement;
    const withScan = createIamEvaluator({
      Version: '2012-10-17',
      Statement: [{ ...statement, Action: ['dynamodb:Scan'] }],
    });
    const scan = (keys: IamContextValue | undefined) =>
      withScan.evaluate({
        action: 'dynamodb:Scan',
        resource: TABLE,
        context: {
          ...principalTagContext(a),
          ...(keys === undefined ? {} : { 'dynamodb:LeadingKeys': keys }),
        },
      }).decision;
    expect(scan(undefined)).toBe('allow');
    expect(scan([])).toBe('allow');
    expect(judge('dynamodb:Scan', undefined, a)).toBe('implicit-deny');
  });

  const id = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
  const suffix = fc.constantFrom('', '#x', '#ROLE#admin', '#a#b#c');

  test.prop([id, id, suffix], { numRuns: 300 })(
    "a tenant never reaches another tenant's keys",
    (t, u, s) => {
      fc.pre(t !== u);
      const tags = { tenant_id: t, user_id: `user-${t}` };
      expect(judge('dynamodb:GetItem', [`TENANT#${u}${s}`], tags)).toBe('implicit-deny');
      expect(judge('dynamodb:Query', [`USER#user-${u}`], tags)).toBe('implicit-deny');
      expect(judge('dynamodb:BatchGetItem', [`TENANT#${t}`, `TENANT#${u}${s}`], tags)).toBe(
        'implicit-deny',
      );
    },
  );

  test.prop([id, suffix], { numRuns: 100 })('a tenant always reaches its own keys', (t, s) => {
    const tags = { tenant_id: t, user_id: `user-${t}` };
    expect(judge('dynamodb:PutItem', [`TENANT#${t}${s}`, `USER#user-${t}`], tags)).toBe('allow');
  });
});

describe('IAM semantics', () => {
  const R = 'arn:aws:dynamodb:us-east-1:123456789012:table/T';
  const evaluate = (
    statements: IamStatement[],
    context: Record<string, IamContextValue> = {},
    action = 'dynamodb:GetItem',
    resource = R,
  ) =>
    createIamEvaluator({ Version: '2012-10-17', Statement: statements }).evaluate({
      action,
      resource,
      context,
    });
  const allowAll: IamStatement = { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' };
  const allowIf = (Condition: IamStatement['Condition']): IamStatement => ({
    ...allowAll,
    Condition,
  });
  const decide = (statement: IamStatement, context: Record<string, IamContextValue> = {}) =>
    evaluate([statement], context).decision;

  it('an explicit Deny wins over any Allow, and names its statement', () => {
    expect(
      evaluate(
        [allowAll, { Sid: 'NoDeletes', Effect: 'Deny', Action: 'dynamodb:Delete*', Resource: R }],
        {},
        'dynamodb:DeleteItem',
      ),
    ).toEqual({ decision: 'explicit-deny', statement: 'NoDeletes' });
    expect(evaluate([allowAll])).toEqual({ decision: 'allow', statement: 'Statement[0]' });
    const none = { action: 'dynamodb:GetItem', resource: R };
    expect(evaluateIamPolicy({ Version: '2012-10-17', Statement: [] }, none)).toEqual({
      decision: 'implicit-deny',
    });
  });

  it('NotAction and NotResource', () => {
    const notDelete: IamStatement = { Effect: 'Allow', NotAction: 'dynamodb:Delete*', Resource: R };
    expect(evaluate([notDelete], {}, 'dynamodb:GetItem').decision).toBe('allow');
    expect(evaluate([notDelete], {}, 'dynamodb:DeleteItem').decision).toBe('implicit-deny');
    const notT: IamStatement = { Effect: 'Allow', Action: '*', NotResource: R };
    expect(evaluate([notT]).decision).toBe('implicit-deny');
    expect(evaluate([notT], {}, 'dynamodb:GetItem', `${R}2`).decision).toBe('allow');
  });

  it('matches resources per ARN segment: a wildcard never spans a colon', () => {
    const allowAccountPrefix: IamStatement = {
      Effect: 'Allow',
      Action: '*',
      Resource: 'arn:aws:dynamodb:*:1234*:table/T',
    };
    const on = (resource: string) => evaluate([allowAccountPrefix], {}, 'x:y', resource).decision;
    expect(on('arn:aws:dynamodb:us-east-1:123456789012:table/T')).toBe('allow');
    expect(on('arn:aws:dynamodb:us-east-1:1234:x:table/T')).toBe('implicit-deny');
    expect(on('arn:aws:dynamodb:us-east-1:123456789012:table/t')).toBe('implicit-deny');
    expect(on('*')).toBe('implicit-deny');
  });

  it('single-valued String operators, and case-insensitive condition key names', () => {
    const s = allowIf({ StringEquals: { 'aws:PrincipalTag/tenant_id': ['a', 'b'] } });
    expect(decide(s, { 'aws:principaltag/TENANT_ID': 'b' })).toBe('allow');
    expect(decide(s, { 'aws:PrincipalTag/tenant_id': 'A' })).toBe('implicit-deny');
    expect(decide(s, {})).toBe('implicit-deny');
    const like = allowIf({ StringLike: { 'aws:PrincipalTag/team': 'eng-?' } });
    expect(decide(like, { 'aws:PrincipalTag/team': 'eng-1' })).toBe('allow');
    expect(decide(like, { 'aws:PrincipalTag/team': 'eng-12' })).toBe('implicit-deny');
    const ignore = allowIf({ StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'Eng' } });
    expect(decide(ignore, { 'aws:PrincipalTag/team': 'ENG' })).toBe('allow');
    // StringEquals treats * literally
    const star = allowIf({ StringEquals: { 'aws:PrincipalTag/team': '*' } });
    expect(decide(star, { 'aws:PrincipalTag/team': 'eng' })).toBe('implicit-deny');
    expect(decide(star, { 'aws:PrincipalTag/team': '*' })).toBe('allow');
  });

  it('negated operators match an absent key; IfExists makes an absent key match', () => {
    const not = allowIf({ StringNotEquals: { 'aws:PrincipalTag/team': 'eng' } });
    expect(decide(not, {})).toBe('allow');
    expect(decide(not, { 'aws:PrincipalTag/team': 'eng' })).toBe('implicit-deny');
    expect(decide(not, { 'aws:PrincipalTag/team': 'ops' })).toBe('allow');
    const notLike = allowIf({ StringNotLike: { 'aws:PrincipalTag/team': ['eng*', 'ops'] } });
    expect(decide(notLike, { 'aws:PrincipalTag/team': 'engineering' })).toBe('implicit-deny');
    expect(decide(notLike, { 'aws:PrincipalTag/team': 'sales' })).toBe('allow');
    const ifExists = allowIf({ StringEqualsIfExists: { 'aws:PrincipalTag/team': 'eng' } });
    expect(decide(ifExists, {})).toBe('allow');
    expect(decide(ifExists, { 'aws:PrincipalTag/team': 'ops' })).toBe('implicit-deny');
  });

  it('set qualifiers: ForAllValues (vacuously true), ForAnyValue (false when empty)', () => {
    const all = allowIf({ 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['PK', 'SK'] } });
    expect(decide(all, { 'dynamodb:Attributes': ['PK'] })).toBe('allow');
    expect(decide(all, { 'dynamodb:Attributes': ['PK', 'secret'] })).toBe('implicit-deny');
    expect(decide(all, {})).toBe('allow');
    const any = allowIf({ 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': 'TENANT#a*' } });
    expect(decide(any, { 'dynamodb:LeadingKeys': ['TENANT#b', 'TENANT#a1'] })).toBe('allow');
    expect(decide(any, { 'dynamodb:LeadingKeys': ['TENANT#b'] })).toBe('implicit-deny');
    expect(decide(any, { 'dynamodb:LeadingKeys': [] })).toBe('implicit-deny');
    expect(decide(any, {})).toBe('implicit-deny');
    const anyIfExists = allowIf({ 'ForAnyValue:StringLikeIfExists': { 'dynamodb:X': 'a' } });
    expect(decide(anyIfExists, {})).toBe('allow');
    const allNot = allowIf({ 'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': 'ADMIN#*' } });
    expect(decide(allNot, { 'dynamodb:LeadingKeys': ['TENANT#a', 'USER#1'] })).toBe('allow');
    expect(decide(allNot, { 'dynamodb:LeadingKeys': ['TENANT#a', 'ADMIN#1'] })).toBe(
      'implicit-deny',
    );
  });

  it('Null tests presence', () => {
    const mustHave = allowIf({ Null: { 'aws:PrincipalTag/tenant_id': 'false' } });
    expect(decide(mustHave, { 'aws:PrincipalTag/tenant_id': 'a' })).toBe('allow');
    expect(decide(mustHave, {})).toBe('implicit-deny');
    const mustLack = allowIf({ Null: { 'dynamodb:LeadingKeys': true } });
    expect(decide(mustLack, { 'dynamodb:LeadingKeys': [] })).toBe('allow');
    expect(decide(mustLack, { 'dynamodb:LeadingKeys': ['x'] })).toBe('implicit-deny');
  });

  it('fails closed on a single-valued operator over a multivalued key', () => {
    // IAM does not document it: the Allow does not apply, and a Deny would.
    const keys = { 'dynamodb:LeadingKeys': ['TENANT#a'] };
    expect(decide(allowIf({ StringLike: { 'dynamodb:LeadingKeys': '*' } }), keys)).toBe(
      'implicit-deny',
    );
    expect(
      evaluate(
        [
          allowAll,
          {
            ...allowAll,
            Effect: 'Deny',
            Condition: { StringNotLike: { 'dynamodb:LeadingKeys': 'x' } },
          },
        ],
        keys,
      ).decision,
    ).toBe('explicit-deny');
  });

  it('variables: escapes, defaults, other context keys, and in resources', () => {
    const escaped = allowIf({ StringLike: { 'aws:PrincipalTag/p': `a\${*}b\${?}\${$}` } });
    expect(decide(escaped, { 'aws:PrincipalTag/p': 'a*b?$' })).toBe('allow');
    expect(decide(escaped, { 'aws:PrincipalTag/p': 'axb?$' })).toBe('implicit-deny');
    const fallback = allowIf({
      StringEquals: { 'aws:PrincipalTag/team': `\${aws:PrincipalTag/dept, 'it''s none'}` },
    });
    expect(decide(fallback, { 'aws:PrincipalTag/team': "it's none" })).toBe('allow');
    expect(decide(fallback, { 'aws:PrincipalTag/team': 'x', 'aws:PrincipalTag/dept': 'x' })).toBe(
      'allow',
    );
    const sub = allowIf({
      'ForAllValues:StringEquals': {
        'dynamodb:LeadingKeys': `\${cognito-identity.amazonaws.com:sub}`,
      },
    });
    expect(
      decide(sub, {
        'cognito-identity.amazonaws.com:sub': 'us-east-1:abc',
        'dynamodb:LeadingKeys': ['us-east-1:abc'],
      }),
    ).toBe('allow');
    const own: IamStatement = {
      Effect: 'Allow',
      Action: 'dynamodb:*',
      Resource: `arn:aws:dynamodb:*:*:table/\${aws:PrincipalTag/tenant_id}-*`,
    };
    const on = (resource: string, tags: Record<string, string>) =>
      evaluate([own], principalTagContext(tags), 'dynamodb:GetItem', resource).decision;
    expect(on('arn:aws:dynamodb:us-east-1:1:table/a-data', { tenant_id: 'a' })).toBe('allow');
    expect(on('arn:aws:dynamodb:us-east-1:1:table/b-data', { tenant_id: 'a' })).toBe(
      'implicit-deny',
    );
    expect(on('arn:aws:dynamodb:us-east-1:1:table/-data', {})).toBe('implicit-deny');
  });

  it('a negated operator matches a variable with no value (IAM docs example)', () => {
    const denyOtherTeams: IamStatement = {
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:PrincipalTag/owner': `\${aws:PrincipalTag/team}` } },
    };
    const run = (context: Record<string, string>) =>
      evaluate([allowAll, denyOtherTeams], context).decision;
    expect(run({ 'aws:PrincipalTag/owner': 'x', 'aws:PrincipalTag/team': 'x' })).toBe('allow');
    expect(run({ 'aws:PrincipalTag/owner': 'x', 'aws:PrincipalTag/team': 'y' })).toBe(
      'explicit-deny',
    );
    expect(run({ 'aws:PrincipalTag/owner': 'x' })).toBe('explicit-deny');
  });

  it(`without Version 2012-10-17, \${…} is literal text (and validation says so)`, () => {
    const doc: IamPolicyDocument = {
      Statement: [allowIf({ StringEquals: { 'aws:PrincipalTag/x': `\${aws:PrincipalTag/y}` } })],
    };
    const request = (x: string) => ({
      action: 'dynamodb:GetItem',
      resource: R,
      context: { 'aws:PrincipalTag/x': x, 'aws:PrincipalTag/y': 'v' },
    });
    expect(evaluateIamPolicy(doc, request('v')).decision).toBe('implicit-deny');
    expect(evaluateIamPolicy(doc, request(`\${aws:PrincipalTag/y}`)).decision).toBe('allow');
    expect(validateIamPolicy(doc)).toEqual([
      `policy variables need Version "2012-10-17"; without it IAM reads \${…} as literal text`,
    ]);
  });

  it('an unvalidated unsupported operator is indeterminate: Allow does not apply, Deny does', () => {
    const cond = { NumericLessThan: { 'dynamodb:Limit': '10' } };
    const doc = (Effect: 'Allow' | 'Deny'): IamPolicyDocument => ({
      Version: '2012-10-17',
      Statement: Effect === 'Allow' ? [allowIf(cond)] : [allowAll, { ...allowIf(cond), Effect }],
    });
    const request = { action: 'dynamodb:Query', resource: R, context: { 'dynamodb:Limit': '5' } };
    expect(evaluateIamPolicy(doc('Allow'), request).decision).toBe('implicit-deny');
    expect(evaluateIamPolicy(doc('Deny'), request).decision).toBe('explicit-deny');
  });
});

describe('policy validation', () => {
  it('accepts the template statement', () => {
    expect(validateIamPolicy(TENANT_ROLE)).toEqual([]);
  });

  it('lists every issue at once', () => {
    const issues = validateIamPolicy({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'allow', Action: 'dynamodb:GetItem', Resource: '*' },
        { Effect: 'Allow', Principal: '*', Action: 'GetItem', Resource: 'table/T' },
        { Effect: 'Deny', Action: [], NotAction: 'x:y', Resource: '*' },
        {
          Effect: 'Allow',
          Action: '*',
          Resource: `arn:aws:dynamodb:us-east-1:1:table/\${aws:username, none}`,
          Condition: {
            NumericLessThan: { 'dynamodb:Limit': 10 },
            Null: { 'aws:PrincipalTag/x': 'maybe' },
            StringEquals: { 'aws:PrincipalTag/x': [] },
            StringLike: 'x',
          },
        },
      ],
    });
    expect(issues).toEqual([
      'Statement[0].Effect must be "Allow" or "Deny"',
      'Statement[1].Principal is not supported in an identity policy',
      'Statement[1].Action: "GetItem" is not "service:Action" or "*"',
      'Statement[1].Resource: "table/T" is not an ARN or "*"',
      'Statement[2] needs exactly one of Action and NotAction',
      'Statement[2].Action must be a non-empty string or list of them',
      `Statement[3].Resource: unparsable policy variable \${aws:username, none}`,
      'Statement[3].Condition: operator "NumericLessThan" is not supported',
      'Statement[3].Condition.Null.aws:PrincipalTag/x: Null takes "true" or "false"',
      'Statement[3].Condition.StringEquals.aws:PrincipalTag/x must be a value or a non-empty list of values',
      'Statement[3].Condition.StringLike must map condition keys to values',
    ]);
    expect(validateIamPolicy(null)).toEqual(['the policy must be an object with a Statement']);
    expect(validateIamPolicy({ Statement: [] })).toEqual(['Statement must not be empty']);
  });

  it('createIamEvaluator throws IamPolicyError with the issues', () => {
    const bad = { Statement: [{ Effect: 'Allow', Action: 'x', Resource: '*' }] } as const;
    expect(() => createIamEvaluator(bad)).toThrow(IamPolicyError);
    try {
      createIamEvaluator(bad);
    } catch (e) {
      expect((e as IamPolicyError).issues).toEqual([
        'Statement[0].Action: "x" is not "service:Action" or "*"',
      ]);
      expect((e as IamPolicyError).name).toBe('IamPolicyError');
    }
  });
});
