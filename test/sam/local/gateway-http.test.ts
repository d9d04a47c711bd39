/**
 * The local gateway as an HTTP API (payload 2.0) over real HTTP on loopback: simple responses, IAM
 * policy responses with the same caching failure as REST, inferred function responses, 404s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthorizerEvent } from '../../../authorizer/events.js';
import { type LocalApi, startLocalApi } from '../../../sam/local/gateway/index.js';
import { call, createClock, createLogRecorder, sequentialIds } from './gateway-helpers.js';

const ROUTE_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:httpapi001/$default';

describe('HTTP API with a simple-response authorizer', () => {
  const clock = createClock();
  const logs = createLogRecorder();
  const authorizerEvents: Record<string, unknown>[] = [];
  const functionEvents: Record<string, unknown>[] = [];
  let api: LocalApi;

  const authorizer = async (event: unknown) => {
    const e = event as { identitySource: string[] };
    authorizerEvents.push(event as Record<string, unknown>);
    const token = e.identitySource[0]?.replace(/^Bearer /, '') ?? '';
    if (token.startsWith('unauthorized')) throw new Error('Unauthorized');
    if (token.startsWith('boom')) throw new Error('database down');
    if (token.startsWith('bad')) return { isAuthorized: 'yes' };
    return {
      isAuthorized: token.startsWith('yes'),
      context: { tenantId: 't1', seats: 2, flags: ['a'], secretAccessKey: 'SECRET-never-logged' },
    };
  };
  const record = async (event: unknown) => {
    functionEvents.push(event as Record<string, unknown>);
    return { tenant: 't1' };
  };

  beforeAll(async () => {
    api = await startLocalApi({
      kind: 'http',
      stage: '$default',
      apiId: 'httpapi001',
      region: 'eu-west-1',
      routes: [
        { method: 'GET', path: '/me', handler: record },
        { method: 'GET', path: '/aircraft/{id}', handler: record },
        { method: 'GET', path: '/text', handler: async () => 'Hello from Lambda!' },
        {
          method: 'POST',
          path: '/shaped',
          handler: async () => ({
            statusCode: 202,
            headers: { 'content-type': 'text/plain' },
            cookies: ['a=1', 'b=2'],
            body: 'accepted',
          }),
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
        identitySources: ['$request.header.Authorization'],
        resultTtlSeconds: 300,
        simpleResponses: true,
      },
      now: clock.now,
      randomId: sequentialIds,
      logger: logs.logger,
    });
  });
  afterAll(() => api.stop());

  const get = (path: string, token?: string, init: { method?: string; body?: string } = {}) =>
    call(api.url, path, {
      ...init,
      headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
    });

  it('answers 401 without invoking the authorizer when the identity source is missing', async () => {
    const reply = await get('/me');
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ message: 'Unauthorized' });
    expect(api.stats().authorizerInvocations).toBe(0);
  });

  it('answers 403 Forbidden when isAuthorized is false', async () => {
    const reply = await get('/me', 'no:1');
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual({ message: 'Forbidden' });
  });

  it('sends the payload 2.0 event and passes the context as authorizer.lambda', async () => {
    const reply = await call(api.url, '/aircraft/42?x=1&x=2', {
      headers: { Authorization: 'Bearer yes:1', 'X-Trace': 'abc', Cookie: 'c1=v1; c2=v2' },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.json).toEqual({ tenant: 't1' });

    const authEvent = authorizerEvents.at(-1) ?? expect.unreachable();
    expect(authEvent).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeArn: `${ROUTE_ARN}/GET/aircraft/42`,
      identitySource: ['Bearer yes:1'],
      routeKey: 'GET /aircraft/{id}',
      rawPath: '/aircraft/42',
      rawQueryString: 'x=1&x=2',
      cookies: ['c1=v1', 'c2=v2'],
      headers: { authorization: 'Bearer yes:1', 'x-trace': 'abc' },
      queryStringParameters: { x: '1,2' },
      pathParameters: { id: '42' },
      requestContext: {
        accountId: '123456789012',
        apiId: 'httpapi001',
        http: { method: 'GET', path: '/aircraft/42', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
        routeKey: 'GET /aircraft/{id}',
        stage: '$default',
        timeEpoch: clock.now(),
      },
    });
    expect(parseAuthorizerEvent(authEvent)).toMatchObject({
      kind: 'http-v2',
      token: 'yes:1',
      route: 'GET /aircraft/{id}',
    });

    const event = functionEvents.at(-1) ?? expect.unreachable();
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /aircraft/{id}',
      rawPath: '/aircraft/42',
      pathParameters: { id: '42' },
      isBase64Encoded: false,
      requestContext: {
        authorizer: {
          lambda: {
            tenantId: 't1',
            seats: 2,
            flags: ['a'],
            secretAccessKey: 'SECRET-never-logged',
          },
        },
      },
    });
    expect(event.body).toBeUndefined();
  });

  it('applies a cached simple response to every route within the TTL, then asks again', async () => {
    const { authorizerInvocations: invoked, cacheHits: hits } = api.stats();
    expect((await get('/me', 'yes:cache')).status).toBe(200);
    expect((await get('/aircraft/7', 'yes:cache')).status).toBe(200);
    expect(api.stats()).toEqual({ authorizerInvocations: invoked + 1, cacheHits: hits + 1 });
    clock.advance(300_000);
    expect((await get('/me', 'yes:cache')).status).toBe(200);
    expect(api.stats().authorizerInvocations).toBe(invoked + 2);
  });

  it.each([
    ['fails with Unauthorized', 'unauthorized:1', 401, { message: 'Unauthorized' }],
    ['throws another error', 'boom:1', 500, { message: 'Internal Server Error' }],
    ['returns a malformed response', 'bad:1', 500, { message: 'Internal Server Error' }],
  ])('when the authorizer %s it answers %i', async (_name, token, status, body) => {
    const reply = await get('/me', token);
    expect(reply.status).toBe(status);
    expect(reply.json).toEqual(body);
  });

  it('infers a 200 JSON response from a bare string result', async () => {
    const reply = await get('/text', 'yes:1');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.text).toBe('Hello from Lambda!');
  });

  it('maps a structured result with cookies', async () => {
    const reply = await get('/shaped', 'yes:1', { method: 'POST', body: 'payload' });
    expect(reply.status).toBe(202);
    expect(reply.text).toBe('accepted');
    expect(reply.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('answers 500 when the function throws', async () => {
    const reply = await get('/throws', 'yes:1');
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual({ message: 'Internal Server Error' });
  });

  it('answers 404 Not Found for an unknown route or method, before any authorizer', async () => {
    const invoked = api.stats().authorizerInvocations;
    for (const [method, path] of [
      ['GET', '/nope'],
      ['DELETE', '/me'],
    ] as const) {
      const reply = await call(api.url, path, { method });
      expect(reply.status).toBe(404);
      expect(reply.json).toEqual({ message: 'Not Found' });
    }
    expect(api.stats().authorizerInvocations).toBe(invoked);
  });

  it('never logs the token or context secrets', () => {
    const text = logs.lines.join('\n');
    for (const secret of ['SECRET-never-logged', 'Bearer', 'yes:1']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('HTTP API with an IAM-policy authorizer', () => {
  const clock = createClock();
  let api: LocalApi;

  beforeAll(async () => {
    api = await startLocalApi({
      kind: 'http',
      stage: '$default',
      apiId: 'httpapi001',
      region: 'eu-west-1',
      routes: [
        { method: 'GET', path: '/me', handler: async () => ({ ok: 1 }) },
        { method: 'GET', path: '/aircraft/{id}', handler: async () => ({ ok: 2 }) },
        { method: 'ANY', path: '$default', handler: async () => ({ fallback: true }) },
      ],
      authorizer: {
        // Scoped to the route ARN it was asked about: fine without caching, wrong with it.
        handler: async (event) => {
          const { routeArn, identitySource } = event as {
            routeArn: string;
            identitySource: string[];
          };
          const effect = identitySource[0] === 'deny' ? 'Deny' : 'Allow';
          return {
            principalId: 'user-1',
            policyDocument: {
              Version: '2012-10-17',
              Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: routeArn }],
            },
            context: { tenantId: 't1' },
          };
        },
        identitySources: ['$request.header.Authorization'],
        resultTtlSeconds: 60,
      },
      now: clock.now,
      randomId: sequentialIds,
    });
  });
  afterAll(() => api.stop());

  const get = (path: string, token: string) =>
    call(api.url, path, { headers: { Authorization: token } });

  it('re-evaluates the cached policy per route: a route-scoped Allow fails elsewhere within the TTL', async () => {
    expect((await get('/me', 'scoped')).json).toEqual({ ok: 1 });
    const denied = await get('/aircraft/1', 'scoped');
    expect(denied.status).toBe(403);
    expect(denied.json).toEqual({ message: 'Forbidden' });
    expect(api.stats()).toEqual({ authorizerInvocations: 1, cacheHits: 1 });
    clock.advance(60_000);
    expect((await get('/aircraft/1', 'scoped')).json).toEqual({ ok: 2 });
    expect(api.stats().authorizerInvocations).toBe(2);
  });

  it('answers 403 Forbidden for a Deny policy', async () => {
    const reply = await get('/me', 'deny');
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual({ message: 'Forbidden' });
  });

  it('routes what matches nothing to $default, behind the authorizer', async () => {
    expect((await get('/anything/else', 'other')).json).toEqual({ fallback: true });
    expect((await call(api.url, '/anything/else')).status).toBe(401);
  });
});
