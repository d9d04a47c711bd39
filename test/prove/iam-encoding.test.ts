/**
 * The SMT encoding of IAM (sam/prove/iam-encoding.ts) against the isolation proxy's IAM judge
 * (sam/local/isolation/iam.ts) on random policies and concrete requests: two implementations of the
 * same semantics, written apart, must decide alike. Set operators, wildcards, policy variables (with
 * and without value), Deny, NotAction and NotResource all come up. Not generated: a bare operator
 * over `dynamodb:LeadingKeys`, where the two differ on purpose (see tenant-isolation.test.ts).
 */
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  evaluateIamPolicy,
  type IamPolicyDocument,
  type IamStatement,
  principalTagContext,
} from '../../sam/local/isolation/index.js';
import { encodePolicy, leadingKeyFields } from '../../sam/prove/iam-encoding.js';
import { openSolver, type SmtSolver } from '../../sam/prove/index.js';
import type { KeyFields } from '../../sam/prove/patterns.js';
import { FALSE, str, TRUE } from '../../sam/prove/smt.js';

const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/tenantgate-Table';
const T = `\${aws:PrincipalTag/tenant_id}`;
const U = `\${aws:PrincipalTag/user_id}`;
const MISSING = `\${aws:PrincipalTag/missing}`;

let solver: SmtSolver;
beforeAll(async () => {
  solver = await openSolver();
}, 60_000);
afterAll(async () => {
  await solver?.close();
});

interface Request {
  readonly action: string;
  readonly resource: string;
  readonly tags: Record<string, string>;
  readonly keys?: string[];
}

/** A concrete key as the field form the prover declares keys in. */
function literalKey(key: string, depth: number): KeyFields {
  const parts = key.split('#');
  const separators = Math.min(parts.length - 1, depth);
  const fields = parts.slice(0, depth);
  return {
    separators: String(separators),
    fields: Array.from({ length: depth }, (_, i) => str(fields[i] ?? '')),
    rest: str(separators === depth ? parts.slice(depth).join('#') : ''),
  };
}

/** The encoding's verdict on a concrete request: is `allowed` satisfiable with every part fixed? */
async function proofAllows(policy: IamPolicyDocument, r: Request): Promise<boolean> {
  const depth = Math.max(3, leadingKeyFields(policy));
  const parts = r.resource.split(':');
  const star = r.resource === '*';
  const { allowed, approximations } = encodePolicy(policy, {
    action: str(r.action.toLowerCase()),
    resource: {
      star: star ? TRUE : FALSE,
      segments: (star
        ? ['', '', '', '', '', '']
        : [...parts.slice(0, 5), parts.slice(5).join(':')]
      ).map(str),
    },
    leadingKeys: (r.keys ?? []).map((k) => ({ present: TRUE, value: literalKey(k, depth) })),
    principalTags: Object.fromEntries(
      Object.entries(r.tags).map(([k, v]) => [
        k,
        { term: str(v), separatorFree: !v.includes('#') },
      ]),
    ),
  });
  expect(approximations).toEqual([]);
  const answer = await solver.check(`(assert ${allowed})`);
  return answer.status === 'sat';
}

const judgeAllows = (policy: IamPolicyDocument, r: Request) =>
  evaluateIamPolicy(policy, {
    action: r.action,
    resource: r.resource,
    context: {
      ...principalTagContext(r.tags),
      ...(r.keys ? { 'dynamodb:LeadingKeys': r.keys } : {}),
    },
  }).decision === 'allow';

const ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:Scan',
  'dynamodb:PartiQLSelect',
  's3:GetObject',
];
const RESOURCES = [
  TABLE,
  `${TABLE}/index/GSI1`,
  '*',
  'arn:aws:dynamodb:us-east-1:123456789012:table/other',
];
const KEYS = [
  'TENANT#a',
  'TENANT#ab',
  'TENANT#a#x',
  'TENANT#b#y',
  'CONTROL#a',
  'USER#u1',
  'x#x',
  '',
  'TENANT#a#',
  'a#b#c#d',
];

const statement: fc.Arbitrary<IamStatement> = fc
  .record(
    {
      Effect: fc.constantFrom('Allow', 'Allow', 'Deny') as fc.Arbitrary<'Allow' | 'Deny'>,
      actions: fc.subarray(
        [
          'dynamodb:GetItem',
          'dynamodb:Get*',
          'dynamodb:*',
          '*',
          'dynamodb:Scan',
          'dynamodb:?atch*',
          'DYNAMODB:batchwriteitem',
        ],
        { minLength: 1 },
      ),
      notAction: fc.boolean(),
      resources: fc.subarray(
        [
          TABLE,
          `${TABLE}/index/*`,
          '*',
          'arn:aws:dynamodb:*:*:table/*',
          'arn:aws:dynamodb:us-east-1:123456789012:table/tenantgate-*',
          `arn:aws:dynamodb:us-east-1:123456789012:table/${T}`,
        ],
        { minLength: 1 },
      ),
      notResource: fc.boolean(),
      condition: fc.option(
        fc.record({
          operator: fc.constantFrom(
            'ForAllValues:StringLike',
            'ForAnyValue:StringLike',
            'ForAllValues:StringEquals',
            'ForAnyValue:StringNotLike',
            'ForAllValues:StringNotEquals',
            'ForAllValues:StringLikeIfExists',
            'Null',
            'StringLike',
            'StringNotEquals',
          ),
          values: fc.subarray(
            [
              `TENANT#${T}`,
              `TENANT#${T}#*`,
              'CONTROL#*',
              'TENANT#?#*',
              '*#x',
              `TENANT#${T}*`,
              MISSING,
              `USER#${U}`,
              '*',
              'a#*#c*',
              'true',
              'false',
              `${T}`,
            ],
            { minLength: 1, maxLength: 3 },
          ),
        }),
        { nil: undefined },
      ),
    },
    { requiredKeys: ['Effect', 'actions', 'notAction', 'resources', 'notResource'] },
  )
  .map(({ Effect, actions, notAction, resources, notResource, condition }) => {
    // Bare and Null operators on the tags (single-valued), set operators on LeadingKeys.
    const onTags = condition && !condition.operator.includes(':') && condition.operator !== 'Null';
    const key = onTags ? 'aws:PrincipalTag/tenant_id' : 'dynamodb:LeadingKeys';
    return {
      Effect,
      ...(notAction ? { NotAction: actions } : { Action: actions }),
      ...(notResource ? { NotResource: resources } : { Resource: resources }),
      ...(condition ? { Condition: { [condition.operator]: { [key]: condition.values } } } : {}),
    };
  });

const policy: fc.Arbitrary<IamPolicyDocument> = fc.record({
  Version: fc.constantFrom('2012-10-17', '2012-10-17', '2008-10-17'),
  Statement: fc.array(statement, { minLength: 1, maxLength: 3 }),
});

const request: fc.Arbitrary<Request> = fc.record({
  action: fc.constantFrom(...ACTIONS),
  resource: fc.constantFrom(...RESOURCES),
  tags: fc.constantFrom<Record<string, string>>(
    { tenant_id: 'a', user_id: 'u1' },
    { tenant_id: 'ab', user_id: 'u1' },
    { tenant_id: 'b', user_id: 'u2' },
    { user_id: 'u1' },
  ),
  keys: fc.option(fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }), {
    nil: undefined,
  }),
});

describe('the SMT encoding decides as the IAM judge', () => {
  test.prop([policy, request], { numRuns: 150 })(
    'on random policies and requests',
    async (p, r) => {
      expect(await proofAllows(p, r)).toBe(judgeAllows(p, r));
    },
    120_000,
  );

  it('on every pattern × key × tenant of a grid (the field-by-field matching)', async () => {
    const patterns = [
      `TENANT#${T}`,
      `TENANT#${T}#*`,
      `TENANT#${T}*`,
      `TENANT#${T}#?`,
      'CONTROL#*',
      'a#*#c*',
      'TENANT#?#*',
      '*#x',
      `*${T}`,
      '#',
    ];
    const keys = [...KEYS, 'TENANT#a#x#y', 'TENANT#ab#', 'CONTROL#a#b', '#', '##', 'TENANT#a#b'];
    const disagreements: string[] = [];
    for (const pattern of patterns) {
      for (const operator of ['ForAllValues:StringLike', 'ForAllValues:StringEquals']) {
        const p: IamPolicyDocument = {
          Version: '2012-10-17',
          Statement: {
            Effect: 'Allow',
            Action: 'dynamodb:GetItem',
            Resource: TABLE,
            Condition: { [operator]: { 'dynamodb:LeadingKeys': pattern } },
          },
        };
        for (const key of keys) {
          for (const tenant of ['a', 'ab']) {
            const r = {
              action: 'dynamodb:GetItem',
              resource: TABLE,
              tags: { tenant_id: tenant },
              keys: [key],
            };
            const [proof, judge] = [await proofAllows(p, r), judgeAllows(p, r)];
            if (proof !== judge)
              disagreements.push(
                `${operator} ${pattern} on ${key} for ${tenant}: proof ${proof}, judge ${judge}`,
              );
          }
        }
      }
    }
    expect(disagreements).toEqual([]);
  }, 120_000);
});
