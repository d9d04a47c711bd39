/** template.yaml: parses, every reference resolves, cfn-lint passes but for listed data gaps, and the security properties hold. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadTemplate, TEMPLATE_PATH } from '../../sam/template.js';
import { references } from '../fixtures/template.js';

const require = createRequire(import.meta.url);
const template = loadTemplate();
const resources = template.Resources;
const props = (id: string) => resources[id]?.Properties ?? {};

/** CloudFormation `!Sub` text: `${!…}` keeps an IAM policy variable literal. */
const TENANT_TAG = '$' + '{!aws:PrincipalTag/tenant_id}';
const TABLE_ARN = { 'Fn::GetAtt': ['Table', 'Arn'] };

describe('template.yaml', () => {
  it('every Ref, GetAtt and Sub target exists', () => {
    const known = new Set([...Object.keys(template.Parameters ?? {}), ...Object.keys(resources)]);
    const missing = references(template).filter((r) => !known.has(r) && !r.startsWith('AWS::'));
    expect(missing).toEqual([]);
  });

  it('cfn-lint passes, except for properties and types newer than its bundled spec', () => {
    // cfn-lint (npm, 1.9.x) bundles an old CloudFormation/SAM spec: each exclusion below is a real,
    // documented property or type it predates. Anything else it reports fails this test.
    const knownGaps: Record<string, string> = {
      'Globals > Function': 'Architectures (SAM Globals since 2021)',
      'Resources > HttpApi': 'AWS::Serverless::HttpApi (2019)',
      'Resources > UserPoolClient > Properties > PreventUserExistenceErrors': 'added 2020',
      'Resources > Table > Properties > DeletionProtectionEnabled': 'added 2023',
      'Resources > RestApi > Properties > Auth': 'SAM Api Auth (its spec predates it)',
      'Resources > RestApi > Properties > Cors > AllowOrigin': 'SAM Api Cors (2018): AllowOrigin',
      'Resources > RestApi > Properties > Cors > AllowHeaders': 'SAM Api Cors (2018): AllowHeaders',
      'Resources > RestApi > Properties > Cors > MaxAge':
        'SAM Api Cors MaxAge is a quoted string, "\'600\'"',
      'Resources > RestApi > Properties > GatewayResponses': 'SAM Api GatewayResponses (2019)',
      // Fn::Not is one of the functions CloudFormation Rules allow (rules-section-structure).
      'Rules > ExplicitOrigins > Assertions > 0 > Assert': 'Fn::Not in a rule assertion',
      'Rules > ExplicitOrigins > Assertions > 1 > Assert': 'Fn::Not in a rule assertion',
      'Rules > ExplicitOrigins > Assertions > 2 > Assert': 'Fn::Not in a rule assertion',
    };
    const { validateFile } = require('cfn-lint') as {
      validateFile(path: string): { errors: { crit: { resource: string; message: string }[] } };
    };
    const result = validateFile(TEMPLATE_PATH);
    // Its spec also predates HttpApi events (2019): `ApiId` on an event whose Type is HttpApi.
    const httpApiEvent = (resource: string) => {
      const m = /^Resources > (\w+) > Properties > Events > (\w+) > Properties > ApiId$/.exec(
        resource,
      );
      const events = m
        ? (resources[m[1] as string]?.Properties?.Events as Record<string, { Type: string }>)
        : undefined;
      return events?.[m?.[2] as string]?.Type === 'HttpApi';
    };
    const unexpected = result.errors.crit.filter(
      (e) => !(e.resource in knownGaps) && !httpApiEvent(e.resource),
    );
    expect(unexpected).toEqual([]);
  });

  it('the app client can read but never write custom:tenant_id and custom:role', () => {
    const client = props('UserPoolClient');
    expect(client.ReadAttributes).toEqual(
      expect.arrayContaining(['custom:tenant_id', 'custom:role']),
    );
    const writes = (client.WriteAttributes ?? []) as string[];
    expect(writes.length).toBeGreaterThan(0); // an absent list would mean "all attributes writable"
    expect(writes).not.toContain('custom:tenant_id');
    expect(writes).not.toContain('custom:role');
    expect(client.GenerateSecret).toBe(false);
  });

  it('the identity pool: developer-authenticated identities only — no user pool trusted, no guests, no claim mapping', () => {
    const pool = props('IdentityPool');
    expect(pool).toEqual({
      AllowUnauthenticatedIdentities: false,
      DeveloperProviderName: { Ref: 'DeveloperProviderName' },
    });
    expect(template.Parameters?.DeveloperProviderName).toMatchObject({
      Type: 'String',
      Default: 'login.tenantgate',
      AllowedPattern: '^[\\w._-]{1,128}$',
    });
    expect(
      Object.values(resources).filter((r) => r.Type === 'AWS::Cognito::IdentityPoolPrincipalTag'),
    ).toEqual([]);
    // Authenticated identities get the tenant data role; there is no unauthenticated role.
    expect(props('IdentityPoolRoles')).toEqual({
      IdentityPoolId: { Ref: 'IdentityPool' },
      Roles: { authenticated: { 'Fn::GetAtt': ['TenantDataRole', 'Arn'] } },
    });
  });

  type Statement = {
    Sid?: string;
    Effect: string;
    Action: string | string[];
    Resource?: unknown;
    Condition?: Record<string, Record<string, unknown>>;
  };
  const tenantRole = props('TenantDataRole') as {
    AssumeRolePolicyDocument: { Statement: Statement[] };
    Policies: { PolicyDocument: { Statement: Statement[] } }[];
  };
  const statements = tenantRole.Policies.flatMap((p) => p.PolicyDocument.Statement);
  const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const leadingKeys = (s: Statement) =>
    (s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []) as unknown[];

  it('the tenant role: read-write on TENANT#<tag>[#…], read-only on CONTROL#<tag>, on the table only', () => {
    expect(statements).toEqual([
      {
        Sid: 'TenantData',
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
        Resource: TABLE_ARN,
        Condition: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [
              { 'Fn::Sub': `TENANT#${TENANT_TAG}` },
              { 'Fn::Sub': `TENANT#${TENANT_TAG}#*` },
            ],
          },
        },
      },
      {
        Sid: 'TenantControlReadOnly',
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
        ],
        Resource: TABLE_ARN,
        Condition: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [{ 'Fn::Sub': `CONTROL#${TENANT_TAG}` }],
          },
        },
      },
    ]);
    // Nothing of USER# partitions, no index, no condition-less statement.
    expect(JSON.stringify(statements)).not.toMatch(/USER#|index/);
  });

  it('no Scan and no wildcard action anywhere in the template', () => {
    const text = JSON.stringify(template);
    expect(text).not.toMatch(/dynamodb:Scan/i);
    expect(text).not.toMatch(/"dynamodb:\*"/);
    expect(statements.flatMap(actions).every((a) => !a.includes('*'))).toBe(true);
  });

  it('the trust policy is conditioned on this identity pool and authenticated identities', () => {
    const [trust] = tenantRole.AssumeRolePolicyDocument.Statement;
    expect(actions(trust as Statement).sort()).toEqual([
      'sts:AssumeRoleWithWebIdentity',
      'sts:TagSession',
    ]);
    expect(trust?.Condition?.StringEquals?.['cognito-identity.amazonaws.com:aud']).toEqual({
      Ref: 'IdentityPool',
    });
    expect(
      trust?.Condition?.['ForAnyValue:StringLike']?.['cognito-identity.amazonaws.com:amr'],
    ).toBe('authenticated');
  });

  it('the default refresh margin exceeds the result TTL plus clock skew', () => {
    const p = template.Parameters ?? {};
    const margin = Number(p.RefreshMarginSeconds?.Default);
    expect(margin).toBeGreaterThanOrEqual(
      Number(p.ResultTtlSeconds?.Default) + Number(p.ClockSkewSeconds?.Default),
    );
  });

  it('the table has point-in-time recovery, encryption and deletion protection as a parameter', () => {
    expect(props('Table')).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: { Ref: 'DeletionProtection' },
    });
  });

  it('the authorizer alone may mint, on this pool only; it reads control partitions, and keeps its shared tokens in AUTHZ# ones', () => {
    expect(props('AuthorizerFunction').Policies).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'cognito-identity:GetOpenIdTokenForDeveloperIdentity',
            Resource: {
              'Fn::Sub':
                'arn:$' +
                '{AWS::Partition}:cognito-identity:$' +
                '{AWS::Region}:$' +
                '{AWS::AccountId}:identitypool/$' +
                '{IdentityPool}',
            },
          },
          {
            Effect: 'Allow',
            Action: 'dynamodb:GetItem',
            Resource: TABLE_ARN,
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CONTROL#*'] } },
          },
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
            Resource: TABLE_ARN,
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUTHZ#*'] } },
          },
        ],
      },
    ]);
    const minters = Object.entries(resources)
      .filter(([, r]) => JSON.stringify(r.Properties?.Policies ?? []).includes('cognito-identity:'))
      .map(([id]) => id);
    expect(minters).toEqual(['AuthorizerFunction']);
  });

  describe('the control plane', () => {
    const grants = (id: string) =>
      ((props(id).Policies ?? []) as { Statement: Statement[] }[]).flatMap((p) =>
        p.Statement.flatMap(actions),
      );
    const routes = (id: string) =>
      Object.values(
        props(id).Events as Record<string, { Type: string; Properties: Record<string, unknown> }>,
      ).map(
        (e) =>
          `${e.Type} ${String(e.Properties.Method).toUpperCase()} ${String(e.Properties.Path)}`,
      );

    it('the user pool calls PostConfirmationFunction, which may only PutItem, with Cognito allowed to invoke it', () => {
      expect(props('UserPool').LambdaConfig).toEqual({
        PostConfirmation: { 'Fn::GetAtt': ['PostConfirmationFunction', 'Arn'] },
      });
      expect(grants('PostConfirmationFunction')).toEqual(['dynamodb:PutItem']);
      expect(props('PostConfirmationPermission')).toMatchObject({
        Principal: 'cognito-idp.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['UserPool', 'Arn'] },
      });
    });

    it('grants each function the least it needs: no admin call outside the control plane, no table access for data functions', () => {
      expect(grants('TenantsFunction').sort()).toEqual(
        [
          'cognito-idp:AdminAddUserToGroup',
          'cognito-idp:AdminUpdateUserAttributes',
          'cognito-idp:CreateGroup',
          'cognito-idp:GetGroup',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ].sort(),
      );
      const controlItems = [
        'dynamodb:ConditionCheckItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ];
      expect(
        grants('MembersFunction')
          .filter((a) => a.startsWith('dynamodb:'))
          .sort(),
      ).toEqual(controlItems);
      expect(
        grants('MembersFunction')
          .filter((a) => !a.startsWith('dynamodb:'))
          .every((a) => a.startsWith('cognito-idp:Admin')),
      ).toBe(true);
      expect(grants('RolesFunction').sort()).toEqual(controlItems);
      // Aircraft and WhoAmI touch the table only with the caller's tenant credentials, if at all.
      expect(grants('AircraftFunction')).toEqual([]);
      expect(grants('WhoAmIFunction')).toEqual([]);
    });

    it('every function statement on the table is confined by LeadingKeys, and none reaches TENANT#', () => {
      const confined: Record<string, string[]> = {};
      for (const [id, r] of Object.entries(resources)) {
        if (r.Type !== 'AWS::Serverless::Function') continue;
        for (const p of (r.Properties?.Policies ?? []) as { Statement: Statement[] }[]) {
          for (const st of p.Statement) {
            if (!actions(st).some((a) => a.startsWith('dynamodb:'))) continue;
            const keys = leadingKeys(st).map(String);
            expect(keys.length, `${id}: ${JSON.stringify(st)}`).toBeGreaterThan(0);
            expect(
              keys.some((k) => k.startsWith('TENANT#')),
              id,
            ).toBe(false);
            const onIndex = JSON.stringify(st.Resource).includes('/index/');
            const name = `${id}${onIndex ? ' (GSI1)' : ''}`;
            confined[name] = [...(confined[name] ?? []), ...keys];
          }
        }
      }
      expect(confined).toEqual({
        AuthorizerFunction: ['CONTROL#*', 'AUTHZ#*'],
        PostConfirmationFunction: ['USER#*'],
        TenantsFunction: ['CONTROL#*', 'USER#*'],
        'TenantsFunction (GSI1)': ['USER#*'],
        MembersFunction: ['CONTROL#*'],
        RolesFunction: ['CONTROL#*'],
      });
      // The only index grant is GSI1, to the tenants function.
      expect(JSON.stringify(props('TenantsFunction').Policies)).toContain(
        '"Fn::Sub":"$' + '{Table.Arn}/index/GSI1"',
      );
    });

    it('serves every control-plane route on both APIs, tenant-less routes included in the authorizer', () => {
      const both = (method: string, path: string) => [
        `Api ${method} ${path}`,
        `HttpApi ${method} ${path}`,
      ];
      expect(routes('TenantsFunction')).toEqual([
        ...both('POST', '/tenants'),
        ...both('GET', '/me/tenants'),
        ...both('POST', '/me/tenant'),
      ]);
      expect(routes('MembersFunction')).toHaveLength(8);
      expect(routes('RolesFunction')).toHaveLength(8);
      expect(routes('AircraftFunction')).toHaveLength(8);
      const env = (props('AuthorizerFunction').Environment as { Variables: Record<string, string> })
        .Variables;
      expect(env.TENANTLESS_ROUTES?.split(',')).toEqual([
        'POST /tenants',
        'GET /me/tenants',
        'POST /me/tenant',
      ]);
    });
  });

  describe('CORS', () => {
    const origin = {
      'Fn::Sub': ["'$" + "{Origin}'", { Origin: { 'Fn::Select': [0, { Ref: 'AllowedOrigins' }] } }],
    };
    const events = () =>
      Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
        .flatMap(([id, r]) =>
          Object.entries(
            (r.Properties?.Events ?? {}) as Record<
              string,
              { Type: string; Properties: Record<string, unknown> }
            >,
          )
            .filter(([, e]) => e.Type === 'Api' || e.Type === 'HttpApi')
            .map(([name, e]) => ({
              at: `${id}.${name}`,
              Method: e.Properties.Method,
              Auth: e.Properties.Auth,
            })),
        );

    it('origins are explicit: no default, and the Rules refuse *, null and an empty list', () => {
      const p = template.Parameters?.AllowedOrigins as Record<string, unknown>;
      expect(p.Type).toBe('CommaDelimitedList');
      expect(p.Default).toBeUndefined();
      const asserts = JSON.stringify(template.Rules);
      expect(asserts).toContain('{"Fn::Contains":[{"Ref":"AllowedOrigins"},"*"]}');
      expect(asserts).toContain('{"Fn::Contains":[{"Ref":"AllowedOrigins"},"null"]}');
      expect(asserts).toContain('{"Fn::Equals":[{"Fn::Join":["",{"Ref":"AllowedOrigins"}]},""]}');
      // Never credentials: a bearer-token API needs none, and with them a listed origin could ride cookies.
      expect(JSON.stringify(template)).not.toMatch(
        /AllowCredentials|Access-Control-Allow-Credentials/i,
      );
    });

    it('REST: the preflight never meets the authorizer, and API Gateway’s own 401, 403, 4XX and 5XX carry the origin', () => {
      const api = props('RestApi');
      expect((api.Auth as Record<string, unknown>).AddDefaultAuthorizerToCorsPreflight).toBe(false);
      expect(api.Cors).toEqual({
        AllowOrigin: origin,
        AllowHeaders: "'authorization,content-type'",
        MaxAge: "'600'",
      });
      const responses = api.GatewayResponses as Record<
        string,
        { ResponseParameters: { Headers: Record<string, unknown> } }
      >;
      expect(Object.keys(responses).sort()).toEqual([
        'ACCESS_DENIED',
        'DEFAULT_4XX',
        'DEFAULT_5XX',
        'UNAUTHORIZED',
      ]);
      for (const r of Object.values(responses))
        expect(r.ResponseParameters.Headers).toEqual({ 'Access-Control-Allow-Origin': origin });
    });

    it('the preflight opens no route: no event takes OPTIONS or ANY, none opts out of the authorizer', () => {
      const all = events();
      expect(all.length).toBe(32); // 16 routes on each API
      for (const e of all) {
        expect(String(e.Method).toUpperCase(), e.at).not.toMatch(/^(OPTIONS|ANY)$/);
        expect(e.Auth, e.at).toBeUndefined();
      }
      expect((props('HttpApi').Auth as Record<string, unknown>).DefaultAuthorizer).toBe(
        'TenantAuthorizer',
      );
    });

    it('HTTP API: every listed origin, checked by API Gateway, on its preflight and on every answer', () => {
      expect(props('HttpApi').CorsConfiguration).toEqual({
        'Fn::If': [
          'HasAllowedOrigins',
          {
            AllowOrigins: { Ref: 'AllowedOrigins' },
            AllowHeaders: ['authorization', 'content-type'],
            AllowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
            MaxAge: 600,
          },
          { Ref: 'AWS::NoValue' },
        ],
      });
    });

    it('the functions get the same list, in one place', () => {
      const env = (
        template.Globals?.Function?.Environment as
          | { Variables: Record<string, unknown> }
          | undefined
      )?.Variables;
      expect(env?.ALLOWED_ORIGINS).toEqual({ 'Fn::Join': [',', { Ref: 'AllowedOrigins' }] });
      expect(JSON.stringify(resources)).not.toContain('ALLOWED_ORIGINS');
    });
  });
});
