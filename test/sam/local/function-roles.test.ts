/**
 * Each function's stand-in execution role from template.yaml: its own key and secret, its policies
 * resolved against the local ids and judged by the local IAM evaluator as IAM would judge the
 * deployed role; every unsupported way of shaping a role refused up front.
 */
import { describe, expect, it } from 'vitest';
import { LocalStackConfigError } from '../../../sam/local/errors.js';
import {
  accessKeyIdFor,
  combineEvaluators,
  createFunctionRoles,
  functionPolicies,
} from '../../../sam/local/function-roles.js';
import { createIamEvaluator, IamDecision } from '../../../sam/local/isolation/index.js';
import {
  initialRefs,
  type LocalResolution,
  resolveParameters,
  resourcesOfType,
} from '../../../sam/local/provision.js';
import { loadTemplate, type Template } from '../../../sam/template.js';

const ACCOUNT = '123456789012';
const template = loadTemplate();
const resolution = (t: Template = template): LocalResolution => ({
  region: 'us-east-1',
  accountId: ACCOUNT,
  stackName: 'tenantgate-local',
  parameters: resolveParameters(
    t,
    t.Parameters?.AllowedOrigins ? { AllowedOrigins: 'http://127.0.0.1:3002' } : {},
  ),
  refs: {
    ...initialRefs(t, {
      region: 'us-east-1',
      stackName: 'tenantgate-local',
      userPoolId: () => 'us-east-1_Pool12345',
    }),
    UserPoolClient: 'client123',
  },
});

const TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/tenantgate-local-Table`;
const GSI1_ARN = `${TABLE_ARN}/index/GSI1`;
const USER_POOL_ARN = `arn:aws:cognito-idp:us-east-1:${ACCOUNT}:userpool/us-east-1_Pool12345`;
const poolArn = (id: string) => `arn:aws:cognito-identity:us-east-1:${ACCOUNT}:identitypool/${id}`;
const MINT = 'cognito-identity:GetOpenIdTokenForDeveloperIdentity';

describe('function roles from template.yaml', () => {
  const ctx = resolution();
  const roles = createFunctionRoles(template, ctx);
  const decide = (id: string, action: string, resource: string, leadingKeys?: string[]) =>
    roles.get(id)?.evaluator.evaluate({
      action,
      resource,
      context: leadingKeys ? { 'dynamodb:LeadingKeys': leadingKeys } : {},
    }).decision;

  it('every function has its own letters-and-digits key, a fresh secret and its role session ARN', () => {
    const ids = resourcesOfType(template, 'AWS::Serverless::Function');
    expect([...roles.roles.keys()]).toEqual(ids);
    const secrets = new Set<string>();
    for (const id of ids) {
      const role = roles.get(id);
      expect(role).toMatchObject({
        accessKeyId: `LocalRole${id}`,
        functionName: id,
        roleName: `${id}Role`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/${id}Role`,
        principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${id}Role/${id}`,
      });
      expect(role?.accessKeyId).toMatch(/^[A-Za-z0-9]+$/);
      expect(role?.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
      secrets.add(role?.secretAccessKey ?? '');
      expect(roles.byAccessKeyId(accessKeyIdFor(id))).toBe(role);
    }
    expect(secrets.size).toBe(ids.length);
    expect(createFunctionRoles(template, ctx).get('AuthorizerFunction')?.secretAccessKey).not.toBe(
      roles.get('AuthorizerFunction')?.secretAccessKey,
    );
    expect(roles.byAccessKeyId('local')).toBeUndefined();
  });

  it('resolves every intrinsic function: no Ref, GetAtt or Sub left', () => {
    for (const role of roles.roles.values()) {
      const text = JSON.stringify(role.policies);
      expect(text).not.toMatch(/"(Ref|Fn::\w+)"/);
    }
    const authorizer = JSON.stringify(roles.get('AuthorizerFunction')?.policies);
    expect(authorizer).toContain(poolArn(ctx.refs.IdentityPool ?? ''));
    expect(authorizer).toContain(TABLE_ARN);
  });

  it('the authorizer may mint on this pool only, and read control partitions only', () => {
    const pool = ctx.refs.IdentityPool ?? '';
    expect(decide('AuthorizerFunction', MINT, poolArn(pool))).toBe(IamDecision.allow);
    expect(
      decide('AuthorizerFunction', MINT, poolArn('us-east-1:00000000-0000-0000-0000-000000000000')),
    ).toBe(IamDecision.implicitDeny);
    expect(decide('AuthorizerFunction', 'dynamodb:GetItem', TABLE_ARN, ['CONTROL#acme'])).toBe(
      IamDecision.allow,
    );
    expect(decide('AuthorizerFunction', 'dynamodb:GetItem', TABLE_ARN, ['TENANT#acme'])).toBe(
      IamDecision.implicitDeny,
    );
    expect(decide('AuthorizerFunction', 'dynamodb:PutItem', TABLE_ARN, ['CONTROL#acme'])).toBe(
      IamDecision.implicitDeny,
    );
  });

  it('shared OpenID tokens (AUTHZ# partitions): the authorizer alone reads and writes them', () => {
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem'])
      expect(decide('AuthorizerFunction', action, TABLE_ARN, ['AUTHZ#abc'])).toBe(
        IamDecision.allow,
      );
    expect(decide('AuthorizerFunction', 'dynamodb:DeleteItem', TABLE_ARN, ['AUTHZ#abc'])).toBe(
      IamDecision.implicitDeny,
    );
    expect(decide('AuthorizerFunction', 'dynamodb:Query', TABLE_ARN, ['AUTHZ#abc'])).toBe(
      IamDecision.implicitDeny,
    );
    for (const id of [
      'TenantsFunction',
      'MembersFunction',
      'RolesFunction',
      'PostConfirmationFunction',
    ])
      for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'])
        expect(decide(id, action, TABLE_ARN, ['AUTHZ#abc'])).toBe(IamDecision.implicitDeny);
  });

  it('no other function may mint; the example and data functions hold no table or Cognito permission', () => {
    const pool = poolArn(ctx.refs.IdentityPool ?? '');
    for (const id of roles.roles.keys())
      if (id !== 'AuthorizerFunction')
        expect(decide(id, MINT, pool)).toBe(IamDecision.implicitDeny);
    for (const id of ['WhoAmIFunction', 'AircraftFunction']) {
      expect(roles.get(id)?.policies).toEqual([]);
      expect(decide(id, 'dynamodb:GetItem', TABLE_ARN, ['TENANT#acme'])).toBe(
        IamDecision.implicitDeny,
      );
    }
  });

  it('control-plane roles are confined by LeadingKeys as the template says', () => {
    expect(decide('TenantsFunction', 'dynamodb:PutItem', TABLE_ARN, ['CONTROL#t'])).toBe('allow');
    expect(decide('TenantsFunction', 'dynamodb:PutItem', TABLE_ARN, ['USER#u'])).toBe('allow');
    expect(decide('TenantsFunction', 'dynamodb:PutItem', TABLE_ARN, ['TENANT#t'])).toBe(
      'implicit-deny',
    );
    expect(decide('TenantsFunction', 'dynamodb:Query', GSI1_ARN, ['USER#u'])).toBe('allow');
    expect(decide('TenantsFunction', 'dynamodb:Query', GSI1_ARN, ['CONTROL#t'])).toBe(
      'implicit-deny',
    );
    expect(decide('TenantsFunction', 'cognito-idp:CreateGroup', USER_POOL_ARN)).toBe('allow');
    for (const id of ['MembersFunction', 'RolesFunction']) {
      expect(decide(id, 'dynamodb:UpdateItem', TABLE_ARN, ['CONTROL#t'])).toBe('allow');
      expect(decide(id, 'dynamodb:UpdateItem', TABLE_ARN, ['TENANT#t'])).toBe('implicit-deny');
      expect(decide(id, 'dynamodb:Scan', TABLE_ARN, [])).toBe('implicit-deny');
    }
    expect(decide('PostConfirmationFunction', 'dynamodb:PutItem', TABLE_ARN, ['USER#u'])).toBe(
      'allow',
    );
    expect(decide('PostConfirmationFunction', 'dynamodb:PutItem', TABLE_ARN, ['CONTROL#t'])).toBe(
      'implicit-deny',
    );
  });
});

describe('function roles: what the local stack refuses to guess', () => {
  const fn = (
    properties: Record<string, unknown>,
    globals?: Record<string, unknown>,
  ): Template => ({
    ...(globals ? { Globals: { Function: globals } } : {}),
    Resources: {
      Table: { Type: 'AWS::DynamoDB::Table' },
      Fn: { Type: 'AWS::Serverless::Function', Properties: properties },
    },
  });
  const issues = (t: Template) => {
    try {
      createFunctionRoles(t, resolution(t));
    } catch (error) {
      expect(error).toBeInstanceOf(LocalStackConfigError);
      return (error as LocalStackConfigError).issues;
    }
    return [];
  };

  it('lists every unsupported policy form and unresolvable value at once', () => {
    expect(
      issues(
        fn(
          {
            Role: 'arn:aws:iam::123456789012:role/Elsewhere',
            PermissionsBoundary: 'arn:aws:iam::123456789012:policy/b',
            Policies: [
              'AmazonDynamoDBReadOnlyAccess',
              { DynamoDBCrudPolicy: { TableName: { Ref: 'Table' } } },
              {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { Ref: 'Nowhere' } },
                ],
              },
            ],
          },
          { PermissionsBoundary: 'arn:aws:iam::123456789012:policy/g' },
        ),
      ),
    ).toEqual([
      "Fn.Role: an explicit execution role is not supported locally; declare the function's Policies inline",
      'Fn.PermissionsBoundary is not supported locally',
      'Globals.Function.PermissionsBoundary is not supported locally',
      'Fn.Policies[0]: the managed policy AmazonDynamoDBReadOnlyAccess is not supported locally (its statements are not in the template); write them inline',
      'Fn.Policies[1]: the SAM policy template DynamoDBCrudPolicy is not supported locally; write an inline { Version, Statement } document',
      'Fn.Policies[2].Statement[0].Resource: cannot resolve {"Ref":"Nowhere"} locally',
    ]);
  });

  it('an inline document the evaluator cannot judge faithfully is refused too', () => {
    expect(
      issues(
        fn({
          Policies: [
            {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'dynamodb:GetItem',
                  Resource: { 'Fn::GetAtt': ['Table', 'Arn'] },
                  Condition: { NumericLessThan: { 'aws:EpochTime': 1 } },
                },
              ],
            },
          ],
        }),
      ),
    ).toEqual([
      'Fn.Policies[0]: Statement[0].Condition: operator "NumericLessThan" is not supported',
    ]);
  });

  it('a document without Version that uses a policy variable is refused (IAM would read it literally)', () => {
    expect(
      issues(
        fn({
          Policies: [
            {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'dynamodb:GetItem',
                  Resource: { 'Fn::GetAtt': ['Table', 'Arn'] },
                  Condition: {
                    'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': `\${aws:username}` },
                  },
                },
              ],
            },
          ],
        }),
      ),
    ).toEqual([
      `Fn.Policies[0]: policy variables need Version "2012-10-17"; without it IAM reads \${…} as literal text`,
    ]);
  });

  it('each document is judged on its own; a Deny in one wins over an Allow in another', () => {
    const t = fn({
      Policies: [
        {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'dynamodb:GetItem',
              Resource: { 'Fn::GetAtt': ['Table', 'Arn'] },
            },
          ],
        },
        {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: '*' },
            {
              Effect: 'Deny',
              Action: 'dynamodb:PutItem',
              Resource: { 'Fn::Sub': `\${Table.Arn}` },
            },
          ],
        },
      ],
    });
    const ctx = resolution(t);
    expect(functionPolicies(t, ctx, 'Fn')).toHaveLength(2);
    const role = createFunctionRoles(t, ctx).get('Fn');
    const table = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/tenantgate-local-Table`;
    const judge = (action: string, resource: string) =>
      role?.evaluator.evaluate({ action, resource }).decision;
    expect(judge('dynamodb:GetItem', table)).toBe('allow');
    expect(judge('dynamodb:DeleteItem', table)).toBe('implicit-deny');
    expect(judge('dynamodb:PutItem', table)).toBe('explicit-deny');
    expect(judge('dynamodb:PutItem', `${table}-other`)).toBe('allow');
  });

  it('combineEvaluators: deny anywhere, else allow anywhere, else implicit deny', () => {
    const allow = createIamEvaluator({
      Statement: [{ Effect: 'Allow', Action: 's:A', Resource: '*' }],
    });
    const deny = createIamEvaluator({
      Statement: [{ Effect: 'Deny', Action: 's:A', Resource: '*' }],
    });
    const request = { action: 's:A', resource: '*' };
    expect(combineEvaluators([allow, deny]).evaluate(request).decision).toBe('explicit-deny');
    expect(combineEvaluators([allow]).evaluate(request).decision).toBe('allow');
    expect(combineEvaluators([]).evaluate(request).decision).toBe('implicit-deny');
  });
});
