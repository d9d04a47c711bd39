/**
 * The local stack. Its pieces first, without starting it: template → local resources (parameters,
 * intrinsic functions, pool, table, identity pool, triggers, APIs), the Lambda Invoke API, the
 * functions in their own workers, `npm start`'s arguments and its port-taken line, the Java check.
 * Then the whole stack on free ports: a user signs up and in through cognito-local and calls GET /me
 * on both APIs through the template's authorizer; one GetOpenIdTokenForDeveloperIdentity and one
 * GetCredentialsForIdentity serve repeated calls; each function's key is judged by its own policy;
 * the table is the template's; stop() leaves no process and no port behind.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchDynamoDbLocal } from '../../sam/local/dynamodb.js';
import {
  JavaMissingError,
  LocalStackConfigError,
  LocalStackStartError,
  PortTakenError,
} from '../../sam/local/errors.js';
import {
  type LocalFunctions,
  localEnvironment,
  startFunctions,
} from '../../sam/local/functions.js';
import type { LambdaHandler } from '../../sam/local/gateway/index.js';
import {
  functionNameOf,
  type LambdaService,
  startLambdaService,
} from '../../sam/local/lambda-service.js';
import {
  cognitoTriggers,
  identityPoolConfig,
  initialRefs,
  type LocalResolution,
  principalTagMapping,
  resolveLocal,
  resolveParameters,
  tableDefinitions,
  userPoolIdFor,
  userPoolSeeds,
} from '../../sam/local/provision.js';
import {
  apiDefinitions,
  type LocalStack,
  PORT_FLAGS,
  startLocalStack,
} from '../../sam/local/stack.js';
import { codesFileOf } from '../../sam/local/stack-file.js';
import { DEFAULT_PORTS, parseStartArgs, runStart, USAGE } from '../../sam/local/start.js';
import { type LocalStackFile, loadTemplate, ROOT, type Template } from '../../sam/template.js';

const template = loadTemplate();
const resolution = (t: Template = template, overrides = {}): LocalResolution => ({
  region: 'us-east-1',
  accountId: '123456789012',
  stackName: 'tenantgate-local',
  parameters: resolveParameters(t, {
    ...(t.Parameters?.AllowedOrigins ? { AllowedOrigins: 'http://127.0.0.1:3002' } : {}),
    ...overrides,
  }),
  refs: {
    ...initialRefs(t, {
      region: 'us-east-1',
      stackName: 'tenantgate-local',
      userPoolId: () => 'us-east-1_Pool12345',
    }),
    UserPoolClient: 'client123',
  },
});

describe('template → local resources', () => {
  it('applies parameter overrides and lists every bad one at once', () => {
    const origins = { AllowedOrigins: 'http://127.0.0.1:3002' };
    expect(resolveParameters(template, { ...origins, ResultTtlSeconds: 5 }).ResultTtlSeconds).toBe(
      '5',
    );
    expect(resolveParameters(template, origins).StageName).toBe('prod');
    try {
      resolveParameters(template, { Nope: 1, ResultTtlSeconds: 99_999, PolicyScope: 'everything' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(LocalStackConfigError);
      // …and AllowedOrigins, which has no default.
      expect((error as LocalStackConfigError).issues).toHaveLength(4);
    }
  });

  it('makes real-format user pool ids', () => {
    expect(userPoolIdFor('eu-west-1')).toMatch(/^eu-west-1_[0-9A-Za-z]{9}$/);
    expect(userPoolIdFor('us-east-1', (n) => Buffer.alloc(n, 0))).toBe('us-east-1_000000000');
  });

  it('resolves Ref, GetAtt, Sub and Join against local ids', () => {
    const ctx = resolution();
    // CloudFormation's `${…}` syntax, not template literals.
    const sub = (s: string) => s.replaceAll('%{', '${');
    const r = (v: unknown) => resolveLocal(template, ctx, v);
    expect(r({ Ref: 'UserPool' })).toBe('us-east-1_Pool12345');
    expect(r({ Ref: 'UserPoolClient' })).toBe('client123');
    expect(r({ Ref: 'Table' })).toBe('tenantgate-local-Table');
    expect(r({ Ref: 'ResultTtlSeconds' })).toBe('300');
    expect(r({ 'Fn::GetAtt': ['Table', 'Arn'] })).toBe(
      'arn:aws:dynamodb:us-east-1:123456789012:table/tenantgate-local-Table',
    );
    expect(r({ 'Fn::GetAtt': 'UserPool.ProviderName' })).toBe(
      'cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool12345',
    );
    expect(r({ 'Fn::Sub': sub('TENANT#%{!aws:PrincipalTag/tenant_id} in %{AWS::Region}') })).toBe(
      sub('TENANT#%{aws:PrincipalTag/tenant_id} in us-east-1'),
    );
    expect(r({ 'Fn::Sub': [sub('%{X}-%{AWS::StackName}'), { X: { Ref: 'StageName' } }] })).toBe(
      'prod-tenantgate-local',
    );
    expect(r({ 'Fn::Join': ['/', ['a', { Ref: 'StageName' }]] })).toBe('a/prod');
    expect(r({ Ref: 'NoSuchThing' })).toBeUndefined();
    expect(r({ 'Fn::If': ['c', 'a', 'b'] })).toBeUndefined();
  });

  it('seeds the user pool with the Schema custom attributes and username attributes', () => {
    const [pool] = userPoolSeeds(template, resolution());
    expect(pool?.id).toBe('us-east-1_Pool12345');
    expect(pool?.customAttributes).toEqual(expect.arrayContaining(['tenant_id', 'role']));
    expect(pool?.usernameAttributes).toEqual(['email']);
    expect(pool?.name).toBe('tenantgate-local-users');
  });

  it("seeds the template's password policy (none in template.yaml: Cognito's default applies)", () => {
    const [pool] = userPoolSeeds(template, resolution());
    expect(pool?.options?.PasswordPolicy).toBeUndefined();
    const strict = structuredClone(template);
    (strict.Resources.UserPool?.Properties as Record<string, unknown>).Policies = {
      PasswordPolicy: { MinimumLength: 12, RequireSymbols: false },
    };
    const [seed] = userPoolSeeds(strict, resolution(strict));
    expect(seed?.options?.PasswordPolicy).toEqual({ MinimumLength: 12, RequireSymbols: false });
  });

  it('creates the table with its keys and GSIs as the template declares them', () => {
    const [table] = tableDefinitions(template, resolution());
    expect(table?.TableName).toBe('tenantgate-local-Table');
    expect(table?.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    expect(table?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toContain('GSI1');
  });

  it('takes the identity pool from the template: a developer provider, no user pool trusted, no tags to map', () => {
    const ctx = resolution();
    expect(identityPoolConfig(template, ctx)).toEqual({
      identityPoolId: ctx.refs.IdentityPool,
      developerProviderName: 'login.tenantgate',
      providers: [],
    });
    expect(
      identityPoolConfig(template, resolution(template, { DeveloperProviderName: 'login.other' }))
        .developerProviderName,
    ).toBe('login.other');
    expect(principalTagMapping(template)).toEqual({});
    const defaults: Template = {
      Resources: {
        Tags: { Type: 'AWS::Cognito::IdentityPoolPrincipalTag', Properties: { UseDefaults: true } },
      },
    };
    expect(principalTagMapping(defaults)).toEqual({ client: 'aud', username: 'sub' });
  });

  it('still reads a pool that trusts a user pool, and refuses one with guests', () => {
    const withProvider: Template = {
      Resources: {
        ...template.Resources,
        IdentityPool: {
          Type: 'AWS::Cognito::IdentityPool',
          Properties: {
            AllowUnauthenticatedIdentities: false,
            CognitoIdentityProviders: [
              {
                ClientId: { Ref: 'UserPoolClient' },
                ProviderName: { 'Fn::GetAtt': ['UserPool', 'ProviderName'] },
                ServerSideTokenCheck: true,
              },
            ],
          },
        },
      },
    };
    expect(identityPoolConfig(withProvider, resolution()).providers).toEqual([
      {
        providerName: 'cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool12345',
        clientIds: ['client123'],
        serverSideTokenCheck: true,
      },
    ]);
    const guests: Template = {
      Resources: {
        IdentityPool: {
          Type: 'AWS::Cognito::IdentityPool',
          Properties: { AllowUnauthenticatedIdentities: true },
        },
      },
    };
    expect(() => identityPoolConfig(guests, resolution(guests))).toThrow(
      /AllowUnauthenticatedIdentities must be false/,
    );
  });

  it('wires Cognito triggers from LambdaConfig to function names', () => {
    const t: Template = {
      Resources: {
        Pool: {
          Type: 'AWS::Cognito::UserPool',
          Properties: { LambdaConfig: { PostConfirmation: { 'Fn::GetAtt': ['Fn', 'Arn'] } } },
        },
        Fn: { Type: 'AWS::Serverless::Function' },
      },
    };
    expect(cognitoTriggers(t)).toEqual({ PostConfirmation: 'Fn' });
    const bad: Template = {
      Resources: {
        Pool: {
          Type: 'AWS::Cognito::UserPool',
          Properties: { LambdaConfig: { PreSignUp: { 'Fn::GetAtt': ['Missing', 'Arn'] } } },
        },
      },
    };
    expect(() => cognitoTriggers(bad)).toThrow(LocalStackConfigError);
  });

  it('derives both APIs, their routes and authorizers from the template alone', () => {
    const apis = apiDefinitions(template, resolution(template, { ResultTtlSeconds: 7 }));
    const rest = apis.find((a) => a.logicalId === 'RestApi');
    const http = apis.find((a) => a.logicalId === 'HttpApi');
    expect(rest).toMatchObject({
      kind: 'rest',
      stage: 'prod',
      authorizer: {
        functionLogicalId: 'AuthorizerFunction',
        type: 'REQUEST',
        identitySources: ['method.request.header.Authorization'],
        resultTtlSeconds: 7,
      },
    });
    expect(http).toMatchObject({
      kind: 'http',
      stage: '$default',
      authorizer: {
        functionLogicalId: 'AuthorizerFunction',
        type: 'REQUEST',
        identitySources: ['$request.header.Authorization', '$context.routeKey'],
        resultTtlSeconds: 7,
        simpleResponses: true,
      },
    });
    for (const api of [rest, http]) {
      expect(api?.routes).toContainEqual({
        method: 'GET',
        path: '/me',
        functionLogicalId: 'WhoAmIFunction',
        authorization: 'CUSTOM',
      });
    }
  });

  it('refuses what the local gateway cannot run, listing every problem', () => {
    const t: Template = {
      Resources: {
        Api: {
          Type: 'AWS::Serverless::HttpApi',
          Properties: {
            Auth: {
              DefaultAuthorizer: 'A',
              Authorizers: {
                A: { FunctionArn: 'arn:aws:lambda:x', AuthorizerPayloadFormatVersion: '1.0' },
              },
            },
          },
        },
        Fn: {
          Type: 'AWS::Serverless::Function',
          Properties: {
            Events: {
              E: {
                Type: 'HttpApi',
                Properties: { ApiId: { Ref: 'Api' }, Path: '/x', Method: 'get' },
              },
              F: {
                Type: 'Api',
                Properties: { RestApiId: { Ref: 'Api' }, Path: '/y', Method: 'get' },
              },
            },
          },
        },
      },
    };
    try {
      apiDefinitions(t, resolution(t));
      expect.unreachable();
    } catch (error) {
      expect((error as LocalStackConfigError).issues).toHaveLength(2);
    }
  });

  it('gives each function its template environment with local ids', () => {
    const env = localEnvironment(template, resolution(), 'AuthorizerFunction');
    expect(env).toMatchObject({
      USER_POOL_ID: 'us-east-1_Pool12345',
      USER_POOL_CLIENT_IDS: 'client123',
      TABLE_NAME: 'tenantgate-local-Table',
      RESULT_TTL_SECONDS: '300',
      POWERTOOLS_SERVICE_NAME: 'tenantgate',
    });
    expect(env.IDENTITY_POOL_ID).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
  });
});

describe('Lambda service', () => {
  let service: LambdaService;
  const handlers: Record<string, LambdaHandler> = {
    Echo: async (event) => ({ response: event }),
    Fails: async () => {
      throw Object.assign(new Error('profile write failed'), {
        errorType: 'ConditionalCheckFailed',
      });
    },
  };
  beforeAll(async () => {
    service = await startLambdaService({ resolve: (name) => handlers[name] });
  });
  afterAll(() => service.stop());
  const invoke = (name: string, body: string) =>
    fetch(`${service.endpoint}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
      method: 'POST',
      body,
    });

  it('answers with the result, by name or ARN', async () => {
    const res = await invoke('Echo', '{"a":1}');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBeNull();
    expect(await res.json()).toEqual({ response: { a: 1 } });
    const byArn = await invoke('arn:aws:lambda:us-east-1:123456789012:function:Echo', '{}');
    expect(await byArn.json()).toEqual({ response: {} });
    expect(service.stats()).toEqual({ Echo: 2 });
  });

  it('reports a thrown error as Lambda does: 200, X-Amz-Function-Error: Unhandled', async () => {
    const res = await invoke('Fails', '{}');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await res.json()).toEqual({
      errorMessage: 'profile write failed',
      errorType: 'ConditionalCheckFailed',
    });
  });

  it('404s unknown functions and operations, 400s bad JSON', async () => {
    const unknown = await invoke('Nope', '{}');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect((await fetch(`${service.endpoint}/other`)).status).toBe(404);
    expect((await invoke('Echo', '{oops')).status).toBe(400);
    expect(functionNameOf('Echo:$LATEST')).toBe('Echo');
  });
});

describe('functions in their own workers', () => {
  let functions: LocalFunctions;
  const ctx = resolution();
  beforeAll(async () => {
    functions = await startFunctions({
      template,
      resolution: ctx,
      endpoints: {
        dynamodb: 'http://127.0.0.1:9',
        cognitoIdentityProvider: 'http://127.0.0.1:9',
        cognitoIdentity: 'http://127.0.0.1:9',
      },
      only: ['AuthorizerFunction', 'WhoAmIFunction'],
    });
  }, 120_000);
  afterAll(() => functions?.stop());

  it('each function runs in its own thread with its own environment', () => {
    const authorizer = functions.get('AuthorizerFunction');
    const whoami = functions.get('arn:aws:lambda:us-east-1:123456789012:function:WhoAmIFunction');
    expect(authorizer?.threadId()).toBeGreaterThan(0);
    expect(whoami?.threadId()).toBeGreaterThan(0);
    expect(authorizer?.threadId()).not.toBe(whoami?.threadId());
    expect(authorizer?.environment).toMatchObject({
      USER_POOL_ID: 'us-east-1_Pool12345',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'LocalRoleAuthorizerFunction',
      AWS_SECRET_ACCESS_KEY: functions.roles.get('AuthorizerFunction')?.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      AWS_LAMBDA_FUNCTION_NAME: 'AuthorizerFunction',
    });
    expect(authorizer?.role).toBe(functions.roles.get('AuthorizerFunction'));
    // Each its own role's key: no two functions share credentials.
    expect(whoami?.environment.AWS_ACCESS_KEY_ID).toBe('LocalRoleWhoAmIFunction');
    expect(whoami?.environment.AWS_SECRET_ACCESS_KEY).not.toBe(
      authorizer?.environment.AWS_SECRET_ACCESS_KEY,
    );
    expect(whoami?.environment.USER_POOL_ID).toBeUndefined();
  });

  it('a thrown error rejects with its message (Unauthorized → the gateway 401s)', async () => {
    const handler = functions.get('AuthorizerFunction')?.handler as LambdaHandler;
    const event = {
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/me',
      headers: {},
    };
    await expect(handler(event, {} as never)).rejects.toMatchObject({
      name: 'FunctionInvocationError',
      message: 'Unauthorized',
    });
  });

  it('returns results as JSON', async () => {
    const handler = functions.get('WhoAmIFunction')?.handler as LambdaHandler;
    const result = (await handler({ requestContext: {} }, {} as never)) as { statusCode: number };
    expect(result.statusCode).toBe(401);
  });
});

describe('npm start', () => {
  it('parses ports, parameters and --help', () => {
    expect(parseStartArgs([]).options.ports).toEqual(DEFAULT_PORTS);
    const args = parseStartArgs([
      '--rest-port',
      '4000',
      '--dynamodb-port=0',
      '--param',
      'ResultTtlSeconds=10',
      '--region',
      'eu-west-1',
      '--credentials-ttl',
      '900',
      '--quiet',
    ]);
    expect(args.options).toMatchObject({
      ports: { ...DEFAULT_PORTS, restApi: 4000, dynamodb: 0 },
      parameters: { ResultTtlSeconds: '10' },
      region: 'eu-west-1',
      credentialsTtlSeconds: 900,
    });
    expect(args.quiet).toBe(true);
    expect(parseStartArgs(['--help']).help).toBe(true);
  });

  it('lists every bad argument at once', () => {
    try {
      parseStartArgs(['--rest-port', 'x', '--nope', '--http-port', '3000', '--param', 'bad']);
      expect.unreachable();
    } catch (error) {
      expect((error as LocalStackConfigError).issues).toEqual([
        '--rest-port must be a port number (0–65535), got "x"',
        'unknown argument "--nope" (npm start -- --help)',
        '--param must be Name=Value, got "bad"',
        '--rest-port and --http-port are both 3000',
      ]);
    }
  });

  it('prints the usage for --help', async () => {
    const out: string[] = [];
    expect(await runStart(['--help'], { out: (l) => out.push(l), err: () => {} })).toBe(0);
    expect(out).toEqual([USAGE]);
  });

  describe('with a port taken', () => {
    let blocker: Server;
    let port: number;
    beforeAll(async () => {
      blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      port = (blocker.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

    it('says so in one line and exits 1, before starting anything', async () => {
      const err: string[] = [];
      const zeros = ['--rest-port', '0', '--http-port', '0', '--cognito-port', '0'];
      const code = await runStart(
        [
          ...zeros,
          '--identity-pool-port',
          '0',
          '--lambda-port',
          '0',
          '--isolation-port',
          '0',
          '--dynamodb-port',
          String(port),
          '--quiet',
        ],
        { out: () => {}, err: (l) => err.push(l) },
      );
      expect(code).toBe(1);
      expect(err).toEqual([`port ${port} is taken: pass --dynamodb-port N`]);
    });

    it('the launchers throw PortTakenError naming their flag', async () => {
      await expect(launchDynamoDbLocal({ port })).rejects.toThrow(
        new PortTakenError(port, '--dynamodb-port'),
      );
    });
  });

  it('a missing Java is JavaMissingError with the install command', async () => {
    const error = await launchDynamoDbLocal({ java: '/nonexistent/java' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JavaMissingError);
    expect((error as Error).message).toMatch(
      /^Java 17\+ is needed for DynamoDB Local: sudo apt-get install -y openjdk-17-jre-headless/,
    );
  });
});

describe('startLocalStack', () => {
  let stack: LocalStack;
  let cognito: CognitoIdentityProviderClient;
  let direct: DynamoDBClient;
  const email = 'pilot@example.com';
  const password = 'Passw0rd!local';
  let sub = '';
  let idToken = '';

  beforeAll(async () => {
    stack = await startLocalStack();
    const local = {
      region: stack.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    cognito = new CognitoIdentityProviderClient({ ...local, endpoint: stack.endpoints.userPool });
    direct = new DynamoDBClient({ ...local, endpoint: stack.directDynamoDbEndpoint });
  }, 180_000);
  afterAll(async () => {
    cognito?.destroy();
    direct?.destroy();
    await stack?.stop();
  });

  it('describes itself as .local/stack.json does', () => {
    const file = stack.describe();
    expect(file.userPoolId).toMatch(/^us-east-1_[0-9A-Za-z]{9}$/);
    expect(file.identityPoolId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
    expect(file.users).toEqual([]);
    for (const url of Object.values(file.endpoints))
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.issuer).toBe(`https://cognito-idp.us-east-1.amazonaws.com/${file.userPoolId}`);
    expect(JSON.parse(JSON.stringify(file))).toEqual(file);
  });

  it('creates the table and its GSIs as template.yaml declares them', async () => {
    const { Table } = await direct.send(new DescribeTableCommand({ TableName: stack.tableName }));
    const [declared] = tableDefinitions(template, resolution());
    expect(Table?.KeySchema).toEqual(declared?.KeySchema);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema])).toEqual(
      declared?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema]),
    );
  });

  it('signs a user up through cognito-local, running the template trigger through the Lambda service', async () => {
    const { UserSub } = await cognito.send(
      new SignUpCommand({
        ClientId: stack.clientId,
        Username: email,
        Password: password,
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );
    sub = UserSub ?? '';
    await cognito.send(
      new AdminConfirmSignUpCommand({ UserPoolId: stack.userPoolId, Username: email }),
    );
    const triggers = cognitoTriggers(template);
    if (triggers.PostConfirmation) expect(stack.lambdaStats()[triggers.PostConfirmation]).toBe(1);
    // The control plane's job in the real flow; done by hand here: tenant, role, group, membership.
    await cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: stack.userPoolId,
        Username: email,
        UserAttributes: [
          { Name: 'custom:tenant_id', Value: 'acme' },
          { Name: 'custom:role', Value: 'admin' },
        ],
      }),
    );
    await cognito.send(new CreateGroupCommand({ UserPoolId: stack.userPoolId, GroupName: 'acme' }));
    await cognito.send(
      new AdminAddUserToGroupCommand({
        UserPoolId: stack.userPoolId,
        Username: email,
        GroupName: 'acme',
      }),
    );
    await direct.send(
      new PutItemCommand({
        TableName: stack.tableName,
        Item: { PK: { S: 'CONTROL#acme' }, SK: { S: `USER#${sub}` }, role: { S: 'admin' } },
      }),
    );
    const { AuthenticationResult } = await cognito.send(
      new InitiateAuthCommand({
        ClientId: stack.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    idToken = AuthenticationResult?.IdToken ?? '';
    expect(idToken).not.toBe('');
  });

  it('GET /me is 401 without a token on both APIs', async () => {
    for (const base of [stack.endpoints.restApi, stack.endpoints.httpApi]) {
      const res = await fetch(`${base}/me`);
      expect(res.status).toBe(401);
    }
  });

  it('GET /me is 200 with the caller from the authorizer, one developer-identity mint + one exchange for all calls', async () => {
    const before = stack.identityPoolStats();
    for (let i = 0; i < 3; i++) {
      for (const base of [stack.endpoints.restApi, stack.endpoints.httpApi]) {
        const res = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${idToken}` } });
        const body = await res.json();
        expect({ status: res.status, body }).toMatchObject({
          status: 200,
          body: { tenantId: 'acme', userId: sub, role: 'admin' },
        });
      }
    }
    const after = stack.identityPoolStats();
    expect(
      after.GetOpenIdTokenForDeveloperIdentity - before.GetOpenIdTokenForDeveloperIdentity,
    ).toBe(1);
    expect(after.GetCredentialsForIdentity - before.GetCredentialsForIdentity).toBe(1);
    expect(after.GetId - before.GetId).toBe(0);
    expect(after.errors).toEqual({});
    const gateways = stack.gatewayStats();
    expect(gateways.RestApi?.authorizerInvocations).toBe(1);
    expect(gateways.HttpApi?.authorizerInvocations).toBe(1);
    // The membership check runs with the authorizer function's own role, judged by its policy.
    const decisions = stack.isolationDecisions();
    expect(
      decisions.byPrincipal[
        'arn:aws:sts::123456789012:assumed-role/AuthorizerFunctionRole/AuthorizerFunction'
      ],
    ).toBeGreaterThan(0);
    expect(decisions.denied).toEqual({});
  });

  it("a function's own key is judged by its own policy: the authorizer may read control items, not tenant data", async () => {
    const role = stack.functions.roles.get('AuthorizerFunction');
    const asAuthorizer = new DynamoDBClient({
      region: stack.region,
      endpoint: stack.endpoints.dynamodb,
      credentials: {
        accessKeyId: role?.accessKeyId ?? '',
        secretAccessKey: role?.secretAccessKey ?? '',
      },
      maxAttempts: 1,
    });
    try {
      const key = (pk: string) => ({
        TableName: stack.tableName,
        Key: { PK: { S: pk }, SK: { S: `USER#${sub}` } },
      });
      await expect(
        asAuthorizer.send(new GetItemCommand(key('CONTROL#acme'))),
      ).resolves.toMatchObject({
        Item: { role: { S: 'admin' } },
      });
      await expect(asAuthorizer.send(new GetItemCommand(key('TENANT#acme')))).rejects.toMatchObject(
        {
          name: 'AccessDeniedException',
          message: expect.stringContaining(
            'assumed-role/AuthorizerFunctionRole/AuthorizerFunction',
          ),
        },
      );
    } finally {
      asAuthorizer.destroy();
    }
    // And the stack file lets `npm run invoke` run a function with the same key.
    expect(stack.describe().functionCredentials?.AuthorizerFunction).toEqual({
      accessKeyId: role?.accessKeyId,
      secretAccessKey: role?.secretAccessKey,
    });
  });

  it("a function's key is judged by its policy in the user pool too: members may AdminGetUser, the authorizer may not", async () => {
    const asFunction = (logicalId: string) => {
      const role = stack.functions.roles.get(logicalId);
      return new CognitoIdentityProviderClient({
        endpoint: stack.endpoints.userPool,
        region: stack.region,
        credentials: {
          accessKeyId: role?.accessKeyId ?? '',
          secretAccessKey: role?.secretAccessKey ?? '',
        },
      });
    };
    const members = asFunction('MembersFunction');
    const authorizer = asFunction('AuthorizerFunction');
    try {
      const get = new AdminGetUserCommand({ UserPoolId: stack.userPoolId, Username: email });
      expect((await members.send(get)).Username).toBeDefined();
      const refused = await authorizer.send(get).catch((error: Error) => error);
      expect(refused).toMatchObject({
        name: 'AccessDeniedException',
        message: `User: arn:aws:sts::123456789012:assumed-role/AuthorizerFunctionRole/AuthorizerFunction is not authorized to perform: cognito-idp:AdminGetUser on resource: arn:aws:cognito-idp:us-east-1:123456789012:userpool/${stack.userPoolId} because no identity-based policy allows the cognito-idp:AdminGetUser action`,
      });
    } finally {
      members.destroy();
      authorizer.destroy();
    }
  });

  it('stop() leaves no child process and frees every port', async () => {
    const pids = stack.childPids();
    expect(pids.length).toBe(3); // cognito-local, DynamoDB Local's watchdog, the janitor
    const ports = [
      ...Object.values(stack.describe().endpoints),
      stack.directDynamoDbEndpoint,
      stack.lambdaEndpoint,
    ].map((url) => Number(new URL(url).port));
    await stack.stop();
    await stack.stop(); // idempotent
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // DynamoDB Local's watchdog leads its own process group, the JVM inside it.
    const groupAlive = (pid: number) => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(pids.filter(alive)).toEqual([]);
    expect(pids.filter(groupAlive)).toEqual([]);
    const listening = (port: number) =>
      new Promise<boolean>((resolve) => {
        const socket = createConnection({ port, host: '127.0.0.1' });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    const open = [];
    for (const port of ports) if (await listening(port)) open.push(port);
    expect(open).toEqual([]);
  });
});

describe('startLocalStack failures', () => {
  // Our child processes, but esbuild's build service (it lives as long as this process) and `ps`.
  const children = () =>
    execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '' && !/esbuild|\bps\b/.test(l))
      .map((l) => Number.parseInt(l.trim(), 10));

  it('a part that fails names itself, after the others were stopped', async () => {
    const before = children();
    // The authorizer refuses to start when cached results could outlive their credentials.
    const error = await startLocalStack({
      parameters: { RefreshMarginSeconds: 1, ResultTtlSeconds: 300 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalStackStartError);
    expect(error).toMatchObject({ part: 'functions' });
    expect((error as Error).message).toMatch(
      /^functions did not start: AuthorizerFunction: \w+ConfigError: .*refreshMarginSeconds/s,
    );
    expect(children().filter((pid) => !before.includes(pid))).toEqual([]);
  }, 120_000);

  it('options are checked before anything starts, every problem at once', async () => {
    const error = await startLocalStack({
      region: 'moon',
      ports: { restApi: 70_000, cognito: 5000, dynamodb: 5000 },
      credentialsTtlSeconds: 0,
      parameters: { Nope: 'x' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalStackConfigError);
    expect((error as LocalStackConfigError).issues).toHaveLength(5);
  });
});

/** A node script run with only the `export …` lines `npm start` printed as its AWS environment. */
async function withPrintedEnvironment(out: readonly string[], script: string, args: string[]) {
  const env: Record<string, string> = {};
  for (const line of out.filter((l) => l.trim().startsWith('export ')))
    for (const [, name, value] of line.matchAll(/(AWS_[A-Z_]+)=(\S+)/g))
      env[name as string] = value as string;
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
  );
  return new Promise<{ status: number; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
      cwd: ROOT,
      env: {
        ...clean,
        ...env,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.on('close', (status) => resolve({ status: status ?? -1, stdout }));
  });
}

const SDK_PROBE = `
import { CognitoIdentityProviderClient, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
const [userPoolId, tableName] = process.argv.slice(1);
const { Users } = await new CognitoIdentityProviderClient({}).send(new ListUsersCommand({ UserPoolId: userPoolId }));
const { Items } = await new DynamoDBClient({}).send(new ScanCommand({ TableName: tableName }));
console.log('users', Users.length, 'items>0', Items.length > 0);
`;

describe('npm start, running', () => {
  it('writes .local/stack.json (with its pid) while running, prints the exports and the codes the pool sends, deletes both files on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantgate-start-'));
    try {
      const stackFile = join(dir, '.local', 'stack.json');
      // Left by a stack that is gone: replaced.
      mkdirSync(join(dir, '.local'));
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      writeFileSync(stackFile, JSON.stringify({ pid: dead }));
      const out: string[] = [];
      const err: string[] = [];
      let whileRunning: unknown;
      let codes: Record<string, { kind: string; code: string }> = {};
      let sdk = { status: -1, stdout: '' };
      const ports = Object.values(PORT_FLAGS).flatMap((flag) => [flag, '0']);
      const code = await runStart([...ports, '--quiet'], {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        stackFile,
        stopSignal: async () => {
          whileRunning = JSON.parse(readFileSync(stackFile, 'utf8'));
          codes = JSON.parse(readFileSync(codesFileOf(stackFile), 'utf8'));
          const running = whileRunning as LocalStackFile;
          sdk = await withPrintedEnvironment(out, SDK_PROBE, [
            running.userPoolId,
            running.tableName,
          ]);
        },
      });
      // What went wrong is in the failure message, not lost: a CI run once saw only "expected 1".
      expect(code, err.join('\n')).toBe(0);
      expect(out).toContain(`Replacing ${stackFile}: the stack that wrote it is gone.`);
      expect(whileRunning).toMatchObject({
        region: 'us-east-1',
        pid: process.pid,
        userPoolId: expect.stringMatching(/^us-east-1_/),
        endpoints: { restApi: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/) },
      });
      const file = whileRunning as LocalStackFile;
      expect(out).toContain(`  export AWS_ENDPOINT_URL_DYNAMODB=${file.endpoints.dynamodb}`);
      expect(out).toContain(
        `  export AWS_ENDPOINT_URL_COGNITO_IDENTITY=${file.endpoints.identityPool}`,
      );
      expect(out).toContain('  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1');
      expect(out).toContain(
        `  aws dynamodb scan --table-name ${file.tableName} --endpoint-url ${file.endpoints.dynamodb}`,
      );
      // The SDK with nothing but the printed environment (no endpoint in code) reaches the stack:
      // an IAM-signed ListUsers through the user-pool front, a Scan through the isolation proxy.
      expect(sdk).toEqual({ status: 0, stdout: 'users 4 items>0 true\n' });
      // The demo users signed up and confirmed with the codes the pool sent (printed and kept).
      const alice = codes['alice@alpha.example'];
      expect(alice).toMatchObject({
        kind: 'sign-up confirmation code',
        code: expect.stringMatching(/^\d{6}$/),
      });
      expect(out).toContain(
        `  ✉ sign-up confirmation code for alice@alpha.example: ${alice?.code}`,
      );
      expect(existsSync(stackFile)).toBe(false);
      expect(existsSync(codesFileOf(stackFile))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("does not take over a running stack's file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantgate-start-'));
    const stackFile = join(dir, 'stack.json');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(stackFile, JSON.stringify({ pid: other.pid }));
      const err: string[] = [];
      expect(
        await runStart(['--quiet'], { out: () => {}, err: (l) => err.push(l), stackFile }),
      ).toBe(1);
      expect(err).toEqual([
        `another local stack (pid ${other.pid}) is running and owns ${stackFile}: stop it first, or pass --stack-file`,
      ]);
      expect(JSON.parse(readFileSync(stackFile, 'utf8'))).toEqual({ pid: other.pid });
    } finally {
      other.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
