/**
 * The local gateway as a REST API over real HTTP on loopback: a TOKEN authorizer with caching, a
 * REQUEST authorizer, the proxy events and the gateway's own answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTenantContext, readTenantContext } from '../../../authorizer/context.js';
import { parseAuthorizerEvent } from '../../../authorizer/events.js';
import {
  type LambdaContext,
  type LocalApi,
  LocalApiConfigError,
  startLocalApi,
} from '../../../sam/local/gateway/index.js';
import {
  call,
  createClock,
  createLogRecorder,
  getWithHost,
  sequentialIds,
} from './gateway-helpers.js';

const ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/Prod';
const SECRET = 'SECRETKEY/never-logged';
const SESSION = 'SESSIONTOKEN-never-logged';

const tenantContext = encodeTenantContext({
  tenantId: 't1',
  userId: 'user-1',
  role: 'admin',
  groups: ['t1'],
  identityId: 'us-east-1:identity',
  credentials: {
    accessKeyId: 'ASIAEXAMPLE',
    secretAccessKey: SECRET,
    sessionToken: SESSION,
    expiration: new Date('2025-01-15T13:00:00Z'),
  },
});

const policy = (effect: 'Allow' | 'Deny', resource: string, context?: Record<string, unknown>) => ({
  principalId: 'user-1',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
  },
  ...(context === undefined ? {} : { context }),
});

describe('REST API with a TOKEN authorizer', () => {
  const clock = createClock();
  const logs = createLogRecorder();
  const authorizerEvents: Record<string, unknown>[] = [];
  const functionCalls: { event: Record<string, unknown>; context: LambdaContext }[] = [];
  let api: LocalApi;

  /** Tokens read `Bearer <mode>:<nonce>`: the nonce keeps cache entries apart between tests. */
  const authorizer = async (event: unknown) => {
    const e = event as { authorizationToken: string; methodArn: string };
    authorizerEvents.push(e as unknown as Record<string, unknown>);
    const mode = e.authorizationToken.replace(/^Bearer /, '').split(':')[0];
    switch (mode) {
      case 'method': // scoped to the one method ARN: the caching failure waiting to happen
        return policy('Allow', e.methodArn, tenantContext);
      case 'api':
        return policy('Allow', `${ARN}/*/*`, { ...tenantContext, count: 3, admin: true });
      case 'deny':
        return policy('Deny', `${ARN}/*/*`);
      case 'unauthorized':
        throw new Error('Unauthorized');
      case 'boom':
        throw new Error('database down');
      case 'no-policy':
        return { principalId: 'user-1' };
      case 'nested-context':
        return policy('Allow', `${ARN}/*/*`, { nested: { a: 1 } });
      default:
        throw new Error('unexpected token');
    }
  };

  const echo = async (event: unknown, context: LambdaContext) => {
    functionCalls.push({ event: event as Record<string, unknown>, context });
    return { statusCode: 200, body: JSON.stringify({ ok: true }) };
  };

  beforeAll(async () => {
    api = await startLocalApi({
      kind: 'rest',
      stage: 'Prod',
      apiId: 'abcdef1234',
      routes: [
        { method: 'GET', path: '/me', handler: echo, functionName: 'MeFunction' },
        { method: 'GET', path: '/aircraft/{id}', handler: echo, functionName: 'AircraftFunction' },
        { method: 'ANY', path: '/things/{proxy+}', handler: echo },
        { method: 'GET', path: '/health', handler: echo, authorization: 'NONE' },
        {
          method: 'GET',
          path: '/shaped',
          handler: async () => ({
            statusCode: 201,
            headers: { 'X-One': 'a', 'Set-Cookie': 'ignored' },
            multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
            body: Buffer.from('binary\u0000ok').toString('base64'),
            isBase64Encoded: true,
          }),
        },
        { method: 'GET', path: '/malformed', handler: async () => ({ body: 'no status' }) },
        {
          method: 'GET',
          path: '/bad-header',
          handler: async () => ({ statusCode: 200, headers: { 'Bad Header': 'x' } }),
        },
        {
          method: 'GET',
          path: '/throws',
          handler: async () => {
            throw new Error('function failed');
          },
        },
      ],
      authorizer: {
        handler: authorizer,
        type: 'TOKEN',
        identitySources: ['method.request.header.Authorization'],
        resultTtlSeconds: 300,
      },
      now: clock.now,
      randomId: sequentialIds,
      logger: logs.logger,
    });
  });
  afterAll(() => api.stop());

  const get = (path: string, token?: string) =>
    call(
      api.url,
      path,
      token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } },
    );

  it('answers 401 without invoking the authorizer when the token is missing or empty', async () => {
    const before = api.stats().authorizerInvocations;
    for (const headers of [{}, { Authorization: '' }] as Record<string, string>[]) {
      const reply = await call(api.url, '/me', { headers });
      expect(reply.status).toBe(401);
      expect(reply.json).toEqual({ message: 'Unauthorized' });
      expect(reply.headers.get('x-amzn-errortype')).toBe('UnauthorizedException');
    }
    expect(api.stats().authorizerInvocations).toBe(before);
  });

  it('answers 401 when the authorizer fails with Unauthorized', async () => {
    const before = api.stats().authorizerInvocations;
    const reply = await get('/me', 'unauthorized:1');
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ message: 'Unauthorized' });
    expect(api.stats().authorizerInvocations).toBe(before + 1);
  });

  it('answers 403 with the explicit-deny message for a Deny policy', async () => {
    const reply = await get('/me', 'deny:1');
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual({
      Message:
        'User is not authorized to access this resource with an explicit deny in an identity-based policy',
    });
    expect(reply.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
  });

  it('passes the TOKEN event and reaches the function with a string context', async () => {
    const reply = await get('/aircraft/42', 'api:1');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ ok: true });
    expect(authorizerEvents.at(-1)).toEqual({
      type: 'TOKEN',
      authorizationToken: 'Bearer api:1',
      methodArn: `${ARN}/GET/aircraft/42`,
    });
    // Our authorizer's parser reads the event the local gateway built.
    expect(parseAuthorizerEvent(authorizerEvents.at(-1))).toMatchObject({
      kind: 'rest-token',
      token: 'api:1',
      route: 'GET /aircraft/42',
    });
    const { event, context } = functionCalls.at(-1) ?? expect.unreachable();
    expect(event).toMatchObject({
      resource: '/aircraft/{id}',
      path: '/aircraft/42',
      httpMethod: 'GET',
      pathParameters: { id: '42' },
      queryStringParameters: null,
      body: null,
      isBase64Encoded: false,
    });
    const authorizerContext = (event.requestContext as { authorizer: Record<string, unknown> })
      .authorizer;
    expect(authorizerContext).toEqual({
      ...tenantContext,
      count: '3',
      admin: 'true',
      principalId: 'user-1',
    });
    expect(readTenantContext(event)).toMatchObject({ tenantId: 't1', userId: 'user-1' });
    expect(context).toMatchObject({
      functionName: 'AircraftFunction',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:AircraftFunction',
    });
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.getRemainingTimeInMillis()).toBe(29_000);
  });

  it('caches the whole policy: a method-scoped Allow fails on the next route until the TTL ends', async () => {
    const { authorizerInvocations: invoked, cacheHits: hits } = api.stats();

    expect((await get('/aircraft/1', 'method:1')).status).toBe(200);
    expect(api.stats().authorizerInvocations).toBe(invoked + 1);

    // Same token, same route: served from the cache.
    expect((await get('/aircraft/1', 'method:1')).status).toBe(200);
    // Same token, another route within the TTL: the cached policy does not cover it.
    const denied = await get('/me', 'method:1');
    expect(denied.status).toBe(403);
    expect(denied.json).toEqual({ Message: 'User is not authorized to access this resource' });
    expect(api.stats()).toEqual({ authorizerInvocations: invoked + 1, cacheHits: hits + 2 });

    clock.advance(299_999);
    expect((await get('/me', 'method:1')).status).toBe(403);
    expect(api.stats().authorizerInvocations).toBe(invoked + 1);

    // TTL over: the authorizer runs again and scopes its new policy to /me.
    clock.advance(1);
    expect((await get('/me', 'method:1')).status).toBe(200);
    expect(api.stats().authorizerInvocations).toBe(invoked + 2);
    expect(authorizerEvents.at(-1)?.methodArn).toBe(`${ARN}/GET/me`);
  });

  it('keeps one cache entry per token', async () => {
    const invoked = api.stats().authorizerInvocations;
    await get('/me', 'api:cache-a');
    await get('/me', 'api:cache-b');
    await get('/me', 'api:cache-a');
    expect(api.stats().authorizerInvocations).toBe(invoked + 2);
  });

  it.each([
    ['throws another error', 'boom:1'],
    ['returns no policy', 'no-policy:1'],
    ['returns an object in its context', 'nested-context:1'],
  ])('answers 500 {"message":null} when the authorizer %s', async (_name, token) => {
    const reply = await get('/me', token);
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual({ message: null });
    expect(reply.headers.get('x-amzn-errortype')).toBe('AuthorizerConfigurationException');
  });

  it('answers 403 Missing Authentication Token for an unknown resource or method, before any authorizer', async () => {
    const invoked = api.stats().authorizerInvocations;
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/me'],
      ['GET', '/aircraft'],
      ['GET', '/'],
    ] as const) {
      const reply = await call(api.url, path, { method });
      expect(reply.status).toBe(403);
      expect(reply.json).toEqual({ message: 'Missing Authentication Token' });
      expect(reply.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    }
    expect(api.stats().authorizerInvocations).toBe(invoked);
  });

  it('serves an unauthenticated route without the authorizer', async () => {
    const reply = await get('/health');
    expect(reply.status).toBe(200);
    const { event } = functionCalls.at(-1) ?? expect.unreachable();
    expect((event.requestContext as Record<string, unknown>).authorizer).toBeUndefined();
  });

  it('builds the proxy event: query strings, repeated headers, body, greedy path', async () => {
    const reply = await call(api.url, '/things/a/b%20c?x=1&x=2&y=%2B', {
      method: 'POST',
      headers: {
        Authorization: 'Bearer api:1',
        'X-Multi': 'one',
        'Content-Type': 'application/json',
      },
      body: '{"hello":"world"}',
    });
    expect(reply.status).toBe(200);
    const { event } = functionCalls.at(-1) ?? expect.unreachable();
    expect(event).toMatchObject({
      resource: '/things/{proxy+}',
      path: '/things/a/b%20c',
      httpMethod: 'POST',
      pathParameters: { proxy: 'a/b c' },
      queryStringParameters: { x: '2', y: '+' },
      multiValueQueryStringParameters: { x: ['1', '2'], y: ['+'] },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      stageVariables: null,
    });
    const headers = event.headers as Record<string, string>;
    const multi = event.multiValueHeaders as Record<string, string[]>;
    const name = Object.keys(headers).find((h) => h.toLowerCase() === 'x-multi') ?? '';
    expect(headers[name]).toBe('one');
    expect(multi[name]).toEqual(['one']);
    expect(event.requestContext).toMatchObject({
      accountId: '123456789012',
      apiId: 'abcdef1234',
      httpMethod: 'POST',
      path: '/Prod/things/a/b%20c',
      resourcePath: '/things/{proxy+}',
      stage: 'Prod',
      protocol: 'HTTP/1.1',
      requestTime: expect.stringMatching(/^\d{2}\/Jan\/2025:\d{2}:\d{2}:\d{2} \+0000$/),
      requestTimeEpoch: clock.now(),
      identity: { sourceIp: '127.0.0.1' },
    });
  });

  it('maps a proxy result: status, merged headers, base64 body', async () => {
    const reply = await get('/shaped', 'api:1');
    expect(reply.status).toBe(201);
    expect(reply.headers.get('x-one')).toBe('a');
    // multiValueHeaders win over headers for the same name.
    expect(reply.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(reply.text).toBe('binary\u0000ok');
    expect(reply.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['returns a malformed result', '/malformed'],
    ['returns a header Node cannot send', '/bad-header'],
    ['throws', '/throws'],
  ])('answers 502 when the function %s', async (_name, path) => {
    const reply = await get(path, 'api:1');
    expect(reply.status).toBe(502);
    expect(reply.json).toEqual({ message: 'Internal server error' });
  });

  it('never logs the token or the credentials in the context', () => {
    const text = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(10);
    for (const secret of [SECRET, SESSION, 'Bearer', 'api:1', 'method:1']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('REST API with a REQUEST authorizer', () => {
  const events: Record<string, unknown>[] = [];
  let api: LocalApi;

  beforeAll(async () => {
    api = await startLocalApi({
      kind: 'rest',
      stage: 'Prod',
      apiId: 'abcdef1234',
      routes: [
        { method: 'GET', path: '/aircraft/{id}', handler: async () => ({ statusCode: 204 }) },
      ],
      authorizer: {
        type: 'REQUEST',
        handler: async (event) => {
          const e = event as { methodArn: string };
          events.push(event as Record<string, unknown>);
          return policy('Allow', e.methodArn);
        },
        identitySources: [
          'method.request.header.Authorization',
          'method.request.querystring.tenant',
        ],
        resultTtlSeconds: 60,
      },
      now: createClock().now,
      randomId: sequentialIds,
    });
  });
  afterAll(() => api.stop());

  it('answers 401 without invoking when any identity source is missing', async () => {
    const withToken = { headers: { Authorization: 'Bearer abc' } };
    expect((await call(api.url, '/aircraft/7', withToken)).status).toBe(401);
    expect((await call(api.url, '/aircraft/7?tenant=', withToken)).status).toBe(401);
    expect((await call(api.url, '/aircraft/7?tenant=t1')).status).toBe(401);
    expect(api.stats().authorizerInvocations).toBe(0);
  });

  it('sends the REQUEST event and caches on all identity source values', async () => {
    const status = await getWithHost(api.url, '/aircraft/7?tenant=t1', {
      Authorization: 'Bearer abc',
      Host: 't1.example.com',
    });
    expect(status).toBe(204);
    const event = events.at(-1) ?? expect.unreachable();
    expect(event).toMatchObject({
      type: 'REQUEST',
      methodArn: `${ARN}/GET/aircraft/7`,
      resource: '/aircraft/{id}',
      path: '/aircraft/7',
      httpMethod: 'GET',
      queryStringParameters: { tenant: 't1' },
      pathParameters: { id: '7' },
      requestContext: { resourcePath: '/aircraft/{id}', stage: 'Prod', httpMethod: 'GET' },
    });
    expect(parseAuthorizerEvent(event)).toMatchObject({
      kind: 'rest-request',
      token: 'abc',
      route: 'GET /aircraft/{id}',
      host: 't1.example.com',
    });

    await call(api.url, '/aircraft/7?tenant=t1', { headers: { Authorization: 'Bearer abc' } });
    await call(api.url, '/aircraft/7?tenant=t2', { headers: { Authorization: 'Bearer abc' } });
    expect(api.stats()).toEqual({ authorizerInvocations: 2, cacheHits: 1 });
  });
});

describe('startLocalApi options', () => {
  const handler = async () => ({ statusCode: 200 });

  it('lists every invalid option in one error, before listening', async () => {
    const error = await startLocalApi({
      kind: 'rest',
      stage: 'Prod stage',
      port: 70000,
      routes: [
        { method: 'GET', path: '/me', handler },
        { method: 'GET', path: 'me', handler },
      ],
      authorizer: {
        handler,
        type: 'TOKEN',
        identitySources: ['method.request.header.Authorization', '$request.header.X'],
        resultTtlSeconds: 5000,
        simpleResponses: true,
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalApiConfigError);
    expect((error as LocalApiConfigError).issues).toEqual([
      'stage must be a stage name such as Prod or $default, got "Prod stage"',
      'port must be an integer from 0 to 65535, got 70000',
      'authorizer.simpleResponses exists only for HTTP APIs',
      'authorizer.resultTtlSeconds must be an integer from 0 to 3600, got 5000',
      'authorizer: identity source "$request.header.X" is not a REST header, query string or context expression',
      'routes[1] (GET me): path must start with "/"',
    ]);
  });

  it('refuses a TOKEN authorizer on an HTTP API, caching without identity sources, and routes that need a missing authorizer', async () => {
    const http = await startLocalApi({
      kind: 'http',
      stage: '$default',
      routes: [{ method: 'GET', path: '/me', handler }],
      authorizer: { handler, type: 'TOKEN', identitySources: [], resultTtlSeconds: 10 },
    }).catch((e: unknown) => e);
    expect((http as LocalApiConfigError).issues).toEqual([
      'authorizer.type: HTTP API Lambda authorizers are REQUEST authorizers',
      'authorizer: a TOKEN authorizer reads exactly one header identity source',
      'authorizer: caching (resultTtlSeconds > 0) needs at least one identity source',
    ]);
    const noAuthorizer = await startLocalApi({
      kind: 'rest',
      stage: 'Prod',
      routes: [
        { method: 'GET', path: '/me', handler, authorization: 'CUSTOM' },
        { method: 'GET', path: '/x', handler, authorization: 'AWS_IAM' as 'NONE' },
      ],
    }).catch((e: unknown) => e);
    expect((noAuthorizer as LocalApiConfigError).issues).toEqual([
      'routes[0] asks for the authorizer but none is configured',
      'routes[1].authorization must be CUSTOM or NONE, got "AWS_IAM"',
      'routes[1] asks for the authorizer but none is configured',
    ]);
  });
});
