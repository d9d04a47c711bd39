/**
 * The local gateway's CORS, as API Gateway does it: REST (SAM `Cors`: a static mock OPTIONS method,
 * `GatewayResponses` on the gateway's own answers) and HTTP API (`CorsConfiguration`: the gateway
 * answers preflights, checks the Origin, and sets the headers on every answer). Over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LocalApiConfigError,
  type LocalApiOptions,
  startLocalApi,
} from '../../../sam/local/gateway/index.js';
import { call, sequentialIds } from './gateway-helpers.js';

const APP = 'https://app.example.com';
const OTHER = 'https://admin.example.com';
const EVIL = 'https://evil.example.com';
const ARN = 'arn:aws:execute-api:us-east-1:123456789012:corsapi';

/** `Bearer allow` is allowed everywhere, `Bearer deny` denied, anything else Unauthorized. */
function authorizerFor(kind: 'rest' | 'http') {
  const calls: string[] = [];
  const handler = async (event: unknown) => {
    const e = event as { httpMethod?: string; headers?: Record<string, string> };
    const token = e.headers?.authorization ?? e.headers?.Authorization ?? '';
    calls.push(token);
    if (token === 'Bearer boom') throw new Error('database down');
    if (token !== 'Bearer allow' && token !== 'Bearer deny') throw new Error('Unauthorized');
    const allow = token === 'Bearer allow';
    if (kind === 'http') return { isAuthorized: allow };
    return {
      principalId: 'u',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Action: 'execute-api:Invoke', Effect: allow ? 'Allow' : 'Deny', Resource: `${ARN}/*` },
        ],
      },
    };
  };
  return { calls, handler };
}

/** The function answers with its own (wrong) CORS header, which an HTTP API must replace. */
const fn = async (event: unknown) => {
  const e = event as { routeKey?: string; httpMethod?: string; resource?: string };
  if ((e.resource ?? e.routeKey ?? '').includes('broken')) return { statusCode: 'nope' };
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' },
    body: JSON.stringify({ ok: true }),
  };
};

const preflight = (origin: string, method = 'GET') => ({
  method: 'OPTIONS',
  headers: {
    origin,
    'access-control-request-method': method,
    'access-control-request-headers': 'authorization,content-type',
  },
});

async function start(options: Partial<LocalApiOptions> & Pick<LocalApiOptions, 'kind'>) {
  const auth = authorizerFor(options.kind);
  const api = await startLocalApi({
    stage: options.kind === 'rest' ? 'Prod' : '$default',
    apiId: 'corsapi',
    randomId: sequentialIds,
    routes: [
      { method: 'GET', path: '/aircraft', handler: fn },
      { method: 'POST', path: '/aircraft', handler: fn },
      { method: 'PUT', path: '/aircraft/{id}', handler: fn },
      { method: 'GET', path: '/broken', handler: fn },
    ],
    authorizer: {
      handler: auth.handler,
      type: 'REQUEST',
      identitySources: [
        options.kind === 'rest'
          ? 'method.request.header.Authorization'
          : '$request.header.Authorization',
      ],
      resultTtlSeconds: 0,
      ...(options.kind === 'http' ? { simpleResponses: true } : {}),
    },
    ...options,
  });
  return { api, auth };
}

const REST_CORS = {
  allowOrigin: APP,
  allowHeaders: 'authorization,content-type',
  maxAge: '600',
  preflightAuthorized: false,
};
const ORIGIN_HEADER = { 'Access-Control-Allow-Origin': `'${APP}'` };
const GATEWAY_RESPONSES = {
  UNAUTHORIZED: { headers: ORIGIN_HEADER },
  ACCESS_DENIED: { headers: ORIGIN_HEADER },
  DEFAULT_4XX: { headers: ORIGIN_HEADER },
  DEFAULT_5XX: { headers: ORIGIN_HEADER },
};

describe('REST API with SAM Cors and GatewayResponses', () => {
  let rest: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    rest = await start({ kind: 'rest', cors: REST_CORS, gatewayResponses: GATEWAY_RESPONSES });
  });
  afterAll(() => rest.api.stop());

  it('answers the preflight from the mock method, without the authorizer: static origin, each path its methods', async () => {
    const before = rest.auth.calls.length;
    const r = await call(rest.api.url, '/aircraft', preflight(APP, 'POST'));
    expect(r.status).toBe(200);
    expect(r.text).toBe('{}');
    expect(r.headers.get('access-control-allow-origin')).toBe(APP);
    expect(r.headers.get('access-control-allow-methods')).toBe('GET,OPTIONS,POST');
    expect(r.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(r.headers.get('access-control-max-age')).toBe('600');
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    const item = await call(rest.api.url, '/aircraft/N172SP', preflight(APP, 'PUT'));
    expect(item.headers.get('access-control-allow-methods')).toBe('OPTIONS,PUT');
    expect(rest.auth.calls.length).toBe(before);
  });

  it('a disallowed origin’s preflight names the configured origin, never its own', async () => {
    const r = await call(rest.api.url, '/aircraft', preflight(EVIL));
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it("the gateway's own 401, 403 and 500 carry the configured headers", async () => {
    const missing = await call(rest.api.url, '/aircraft', { headers: { origin: APP } });
    const garbage = await call(rest.api.url, '/aircraft', {
      headers: { origin: APP, authorization: 'Bearer garbage' },
    });
    const denied = await call(rest.api.url, '/aircraft', {
      headers: { origin: APP, authorization: 'Bearer deny' },
    });
    const failed = await call(rest.api.url, '/aircraft', {
      headers: { origin: APP, authorization: 'Bearer boom' },
    });
    const unknown = await call(rest.api.url, '/nowhere', { headers: { origin: APP } });
    const badResult = await call(rest.api.url, '/broken', {
      headers: { origin: APP, authorization: 'Bearer allow' },
    });
    expect([missing, garbage, denied, failed, unknown, badResult].map((r) => r.status)).toEqual([
      401, 401, 403, 500, 403, 502,
    ]);
    for (const r of [missing, garbage, denied, failed, unknown, badResult])
      expect(r.headers.get('access-control-allow-origin')).toBe(APP);
    expect(garbage.json).toEqual({ message: 'Unauthorized' });
    expect(garbage.headers.get('x-amzn-errortype')).toBe('UnauthorizedException');
  });

  it("passes the function's answer through unchanged (REST adds nothing to integration answers)", async () => {
    const r = await call(rest.api.url, '/aircraft', {
      headers: { origin: APP, authorization: 'Bearer allow' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('an OPTIONS request without preflight headers is answered the same (a mock knows no Origin)', async () => {
    const r = await call(rest.api.url, '/aircraft', { method: 'OPTIONS' });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(APP);
  });
});

describe('REST API traps the local gateway reproduces', () => {
  it("SAM's default puts the authorizer on the preflight: a browser's preflight (no token) is a 401", async () => {
    const { api, auth } = await start({
      kind: 'rest',
      cors: { ...REST_CORS, preflightAuthorized: undefined },
      gatewayResponses: GATEWAY_RESPONSES,
    });
    try {
      const r = await call(api.url, '/aircraft', preflight(APP));
      expect(r.status).toBe(401);
      expect(r.headers.get('access-control-allow-methods')).toBeNull();
      expect(auth.calls).toEqual([]); // refused on the missing identity source
      const withToken = await call(api.url, '/aircraft', {
        method: 'OPTIONS',
        headers: { authorization: 'Bearer allow' },
      });
      expect(withToken.status).toBe(200);
      expect(auth.calls).toEqual(['Bearer allow']);
    } finally {
      await api.stop();
    }
  });

  it('without GatewayResponses the 401 and 403 carry no CORS header: an opaque error to a browser', async () => {
    const { api } = await start({ kind: 'rest', cors: REST_CORS });
    try {
      const r = await call(api.url, '/aircraft', { headers: { origin: APP } });
      expect(r.status).toBe(401);
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await api.stop();
    }
  });

  it('a specific gateway response wins over DEFAULT_4XX; StatusCode and method.request.header values apply', async () => {
    const { api } = await start({
      kind: 'rest',
      gatewayResponses: {
        DEFAULT_4XX: { headers: { 'X-Default': "'4xx'" } },
        UNAUTHORIZED: {
          statusCode: 419,
          headers: { 'X-Seen-Origin': 'method.request.header.Origin' },
        },
      },
    });
    try {
      const unauthorized = await call(api.url, '/aircraft', { headers: { origin: OTHER } });
      expect(unauthorized.status).toBe(419);
      expect(unauthorized.headers.get('x-seen-origin')).toBe(OTHER);
      expect(unauthorized.headers.get('x-default')).toBeNull();
      const denied = await call(api.url, '/aircraft', {
        headers: { authorization: 'Bearer deny' },
      });
      expect(denied.status).toBe(403);
      expect(denied.headers.get('x-default')).toBe('4xx');
      const noOrigin = await call(api.url, '/aircraft');
      expect(noOrigin.headers.get('x-seen-origin')).toBeNull();
    } finally {
      await api.stop();
    }
  });
});

describe('HTTP API with CorsConfiguration', () => {
  let http: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    http = await start({
      kind: 'http',
      cors: {
        allowOrigins: [APP, OTHER],
        allowHeaders: ['authorization', 'content-type'],
        allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
        maxAge: 600,
      },
    });
  });
  afterAll(() => http.api.stop());

  it('answers a preflight itself, 204, for each listed origin, without the authorizer', async () => {
    for (const origin of [APP, OTHER]) {
      const r = await call(http.api.url, '/aircraft', preflight(origin, 'POST'));
      expect(r.status).toBe(204);
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
      expect(r.headers.get('access-control-allow-methods')).toBe('GET,POST,PUT,DELETE');
      expect(r.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
      expect(r.headers.get('access-control-max-age')).toBe('600');
    }
    // A preflight to a path without routes is the gateway's too.
    expect((await call(http.api.url, '/nowhere', preflight(APP))).status).toBe(204);
    expect(http.auth.calls).toEqual([]);
  });

  it('a disallowed origin gets no CORS header at all, on the preflight or on any answer', async () => {
    const pre = await call(http.api.url, '/aircraft', preflight(EVIL));
    expect(pre.status).toBe(204);
    const answers = [
      pre,
      await call(http.api.url, '/aircraft', { headers: { origin: EVIL } }),
      await call(http.api.url, '/aircraft', {
        headers: { origin: EVIL, authorization: 'Bearer allow' },
      }),
    ];
    for (const r of answers)
      expect([...r.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it("the authorizer's 401 and 403, a 404 and a 500 carry the origin", async () => {
    const headers = { origin: OTHER };
    const answers = [
      await call(http.api.url, '/aircraft', { headers }),
      await call(http.api.url, '/aircraft', { headers: { ...headers, authorization: 'Bearer x' } }),
      await call(http.api.url, '/aircraft', {
        headers: { ...headers, authorization: 'Bearer deny' },
      }),
      await call(http.api.url, '/nowhere', { headers }),
      await call(http.api.url, '/aircraft', {
        headers: { ...headers, authorization: 'Bearer boom' },
      }),
    ];
    expect(answers.map((r) => r.status)).toEqual([401, 401, 403, 404, 500]);
    for (const r of answers) expect(r.headers.get('access-control-allow-origin')).toBe(OTHER);
  });

  it("replaces the function's own CORS headers with its own", async () => {
    const r = await call(http.api.url, '/aircraft', {
      headers: { origin: APP, authorization: 'Bearer allow' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(APP);
    const noOrigin = await call(http.api.url, '/aircraft', {
      headers: { authorization: 'Bearer allow' },
    });
    expect(noOrigin.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('an OPTIONS without preflight headers is an ordinary request (no route: 404)', async () => {
    expect((await call(http.api.url, '/aircraft', { method: 'OPTIONS' })).status).toBe(404);
  });
});

describe('HTTP API: a route that takes OPTIONS gets the preflight, authorizer included', () => {
  it('ANY /{proxy+} behind the authorizer turns every preflight into a 401', async () => {
    const calls: string[] = [];
    const api = await startLocalApi({
      kind: 'http',
      stage: '$default',
      routes: [{ method: 'ANY', path: '/{proxy+}', handler: fn }],
      authorizer: {
        handler: async () => {
          calls.push('called');
          return { isAuthorized: true };
        },
        identitySources: ['$request.header.Authorization'],
        resultTtlSeconds: 0,
        simpleResponses: true,
      },
      cors: { allowOrigins: [APP] },
    });
    try {
      const r = await call(api.url, '/aircraft', preflight(APP));
      expect(r.status).toBe(401);
      expect(r.headers.get('access-control-allow-origin')).toBe(APP);
      expect(calls).toEqual([]);
    } finally {
      await api.stop();
    }
  });
});

describe('CORS options are checked before anything listens', () => {
  it('lists every problem at once', async () => {
    const attempt = startLocalApi({
      kind: 'http',
      stage: '$default',
      routes: [{ method: 'GET', path: '/a', handler: fn, authorization: 'NONE' }],
      cors: { allowOrigins: ['*', 'app.example.com'], allowCredentials: true, maxAge: -1 },
      gatewayResponses: { THROTTLED: { headers: { X: 'context.requestId' } } },
    });
    await expect(attempt).rejects.toBeInstanceOf(LocalApiConfigError);
    await expect(attempt).rejects.toMatchObject({
      issues: [
        'gatewayResponses exist only for REST APIs',
        expect.stringContaining('gatewayResponses.THROTTLED: the local gateway produces only'),
        expect.stringContaining('gatewayResponses.THROTTLED.headers.X: "context.requestId"'),
        'cors.allowOrigins: "app.example.com" is not an origin (scheme://host[:port])',
        'cors: allowCredentials cannot go with the * origin',
        'cors.maxAge must be a whole number of seconds',
      ],
    });
    const rest = startLocalApi({
      kind: 'rest',
      stage: 'Prod',
      routes: [{ method: 'GET', path: '/a', handler: fn, authorization: 'NONE' }],
      cors: { allowOrigins: [APP] },
    });
    await expect(rest).rejects.toMatchObject({
      issues: ['cors: a REST API takes allowOrigin (SAM Cors)'],
    });
  });
});
