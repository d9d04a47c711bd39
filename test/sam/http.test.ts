import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type Logger, TenantContextError } from '../../authorizer/index.js';
import { PolicyValidationError } from '../../policy/index.js';
import {
  type ApiRequest,
  createRouter,
  errorResponse,
  json,
  parseApiEvent,
  tenantOf,
} from '../../sam/http.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  RefreshTokenError,
  ReservedRoleError,
  RightsExceededError,
  RoleConflictError,
  RoleNotFoundError,
  TenantAccessError,
  TenantsConfigError,
  WriteConditionError,
} from '../../tenants/index.js';
import { ACCOUNT, API_ID } from '../fixtures/events.js';

// --- events ------------------------------------------------------------------------------------

const tenantContext = {
  scope: 'tenant',
  tenantId: 'acme',
  userId: 'u1',
  role: 'pilot',
  groups: 'acme,beta',
  identityId: 'us-east-1:11111111-2222-3333-4444-555555555555',
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'example-secret',
  sessionToken: 'example-session',
  credentialsExpiration: '2030-01-01T00:00:00.000Z',
};
const tenantlessContext = { scope: 'tenantless', userId: 'u1', groups: '' };

/** An API Gateway REST (v1) proxy event. */
const restEvent = (
  method: string,
  resource: string,
  options: {
    path?: string;
    pathParameters?: Record<string, unknown> | null;
    query?: Record<string, unknown> | null;
    body?: string | null;
    isBase64Encoded?: boolean;
    authorizer?: Record<string, unknown>;
  } = {},
) => ({
  resource,
  path: options.path ?? resource,
  httpMethod: method,
  headers: {},
  pathParameters: options.pathParameters ?? null,
  queryStringParameters: options.query ?? null,
  body: options.body ?? null,
  isBase64Encoded: options.isBase64Encoded ?? false,
  requestContext: {
    accountId: ACCOUNT,
    apiId: API_ID,
    stage: 'prod',
    resourcePath: resource,
    httpMethod: method,
    ...(options.authorizer ? { authorizer: options.authorizer } : {}),
  },
});

/** An HTTP API (v2) proxy event; the Lambda authorizer's context sits under `authorizer.lambda`. */
const httpEvent = (
  routeKey: string,
  rawPath: string,
  options: {
    pathParameters?: Record<string, unknown>;
    query?: Record<string, unknown>;
    body?: string;
    isBase64Encoded?: boolean;
    authorizer?: Record<string, unknown>;
  } = {},
) => ({
  version: '2.0',
  routeKey,
  rawPath,
  rawQueryString: '',
  headers: {},
  ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
  ...(options.query ? { queryStringParameters: options.query } : {}),
  ...(options.body === undefined ? {} : { body: options.body }),
  isBase64Encoded: options.isBase64Encoded ?? false,
  requestContext: {
    accountId: ACCOUNT,
    apiId: API_ID,
    http: { method: routeKey.split(' ')[0], path: rawPath },
    routeKey,
    stage: '$default',
    ...(options.authorizer ? { authorizer: { lambda: options.authorizer } } : {}),
  },
});

function recordingLogger() {
  const entries: { level: string; message: string; extra: Record<string, unknown>[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      entries.push({ level, message, extra });
  const logger: Logger & { entries: typeof entries } = {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return logger;
}

const bodyOf = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;
const jsonError = (request: ApiRequest) => {
  try {
    request.json();
  } catch (error) {
    return error;
  }
  throw new Error('expected json() to throw');
};

// --- parseApiEvent -----------------------------------------------------------------------------

describe('parseApiEvent', () => {
  it('REST v1: route from method and resource, path and query parameters, JSON body', () => {
    const request = parseApiEvent(
      restEvent('PUT', '/members/{userId}', {
        path: '/members/u-bob',
        pathParameters: { userId: 'u-bob' },
        query: { dryRun: 'true', ignored: null },
        body: '{"role":"instructor"}',
      }),
    );
    expect(request.route).toBe('PUT /members/{userId}');
    expect(request.pathParameters).toEqual({ userId: 'u-bob' });
    expect(request.query).toEqual({ dryRun: 'true' });
    expect(request.json()).toEqual({ role: 'instructor' });
  });

  it('HTTP API v2: the route key as declared', () => {
    const request = parseApiEvent(
      httpEvent('DELETE /members/{userId}', '/members/u-bob', {
        pathParameters: { userId: 'u-bob' },
        query: { a: '1' },
      }),
    );
    expect(request.route).toBe('DELETE /members/{userId}');
    expect(request.pathParameters).toEqual({ userId: 'u-bob' });
    expect(request.query).toEqual({ a: '1' });
    expect(request.json()).toEqual({});
  });

  it('HTTP API v2 $default route: method and raw path', () => {
    const event = httpEvent('$default', '/members/u-bob');
    event.requestContext.http.method = 'GET';
    expect(parseApiEvent(event).route).toBe('GET /members/u-bob');
  });

  it('the route key at the top level alone is enough', () => {
    expect(parseApiEvent({ routeKey: 'POST /tenants', requestContext: {} }).route).toBe(
      'POST /tenants',
    );
  });

  it('keeps the raw event for the authorizer context', () => {
    const event = restEvent('GET', '/members');
    expect(parseApiEvent(event).event).toBe(event);
  });

  it('keeps only string path and query parameters', () => {
    const request = parseApiEvent(
      restEvent('GET', '/x/{a}', { pathParameters: { a: 'ok', b: 1, c: null, d: ['x'] } }),
    );
    expect(request.pathParameters).toEqual({ a: 'ok' });
  });

  it('decodes a base64 body', () => {
    const request = parseApiEvent(
      httpEvent('POST /tenants', '/tenants', {
        body: Buffer.from('{"name":"Acme ✈"}').toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(request.json()).toEqual({ name: 'Acme ✈' });
  });

  it.each([
    ['null', null],
    ['empty', ''],
  ])('a %s body is {}', (_, body) => {
    expect(parseApiEvent(restEvent('POST', '/tenants', { body })).json()).toEqual({});
  });

  it.each([
    ['not JSON', '{"name":', 'must be JSON'],
    ['an array', '["a"]', 'must be a JSON object'],
    ['a string', '"a"', 'must be a JSON object'],
    ['null JSON', 'null', 'must be a JSON object'],
    ['a number', '42', 'must be a JSON object'],
  ])('a body that is %s is a 400 naming `body`', (_, body, message) => {
    const error = jsonError(parseApiEvent(restEvent('POST', '/tenants', { body })));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toEqual([{ field: 'body', message }]);
  });

  it('a base64 body that decodes to bad JSON is a 400 naming `body`', () => {
    const request = parseApiEvent(
      httpEvent('POST /tenants', '/tenants', {
        body: Buffer.from('{oops').toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect((jsonError(request) as InvalidInputError).issues[0]?.field).toBe('body');
  });

  test.prop([fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean()])(
    'any JSON object body round-trips, plain or base64',
    (object, base64) => {
      const text = JSON.stringify(object);
      const body = base64 ? Buffer.from(text).toString('base64') : text;
      const parsed = parseApiEvent(
        httpEvent('POST /tenants', '/tenants', { body, isBase64Encoded: base64 }),
      ).json();
      expect(parsed).toEqual(JSON.parse(text));
    },
  );

  it('does not throw on a malformed event (the router answers 404)', () => {
    for (const event of [null, undefined, 42, 'x', [], { requestContext: 'x' }]) {
      expect(() => parseApiEvent(event)).not.toThrow();
    }
  });
});

// --- errorResponse -----------------------------------------------------------------------------

describe('errorResponse', () => {
  const cases: [string, unknown, number, Record<string, unknown>][] = [
    [
      'InvalidInputError',
      new InvalidInputError([
        { field: 'name', message: 'must be a string' },
        { field: 'refreshToken', message: 'is required' },
      ]),
      400,
      {
        message: 'invalid request',
        issues: [
          { field: 'name', message: 'must be a string' },
          { field: 'refreshToken', message: 'is required' },
        ],
      },
    ],
    [
      'PolicyValidationError',
      new PolicyValidationError([
        { field: 'name', value: '', message: 'must be a non-empty string' },
        { field: 'allow', index: 2, value: 'Bad', message: '"Bad" is not a pattern' },
      ]),
      400,
      {
        message: 'invalid role',
        issues: [
          { field: 'name', message: 'must be a non-empty string' },
          { field: 'allow[2]', message: '"Bad" is not a pattern' },
        ],
      },
    ],
    [
      'PermissionDeniedError',
      new PermissionDeniedError('aircraft:update', 'explicit-deny', { matched: 'aircraft:*' }),
      403,
      {
        message: 'permission denied for aircraft:update (explicit-deny by aircraft:*)',
        action: 'aircraft:update',
        reason: 'explicit-deny',
        matched: 'aircraft:*',
      },
    ],
    [
      'PermissionDeniedError without a pattern',
      new PermissionDeniedError('members:invite', 'no-match'),
      403,
      {
        message: 'permission denied for members:invite (no-match)',
        action: 'members:invite',
        reason: 'no-match',
      },
    ],
    [
      'RightsExceededError (not granted)',
      new RightsExceededError('members:invite', {
        roleId: 'root',
        pattern: '*',
        example: 'x0',
        gap: 'not-granted',
      }),
      403,
      {
        message:
          'permission denied for members:invite: role root grants * (e.g. x0), which your role does not grant',
        action: 'members:invite',
        reason: 'exceeds-own-role',
        role: 'root',
        pattern: '*',
        example: 'x0',
        gap: 'not-granted',
      },
    ],
    [
      'RightsExceededError (denied)',
      new RightsExceededError('roles:update', {
        roleId: 'clerk',
        pattern: 'billing:*',
        example: 'billing:refund',
        gap: 'denied',
        matched: 'billing:refund',
      }),
      403,
      {
        message:
          'permission denied for roles:update: role clerk grants billing:* (e.g. billing:refund), which your role denies by billing:refund',
        action: 'roles:update',
        reason: 'exceeds-own-role',
        role: 'clerk',
        pattern: 'billing:*',
        example: 'billing:refund',
        gap: 'denied',
        matched: 'billing:refund',
      },
    ],
    [
      'PermissionDeniedError admin-only',
      new PermissionDeniedError('members:update', 'admin-only'),
      403,
      {
        message: 'permission denied for members:update (admin-only)',
        action: 'members:update',
        reason: 'admin-only',
      },
    ],
    [
      'PermissionDeniedError own-role',
      new PermissionDeniedError('members:update', 'own-role'),
      403,
      {
        message: 'permission denied for members:update (own-role)',
        action: 'members:update',
        reason: 'own-role',
      },
    ],
    [
      'TenantAccessError',
      new TenantAccessError('not-in-groups', 'tenant beta is not one of yours'),
      403,
      { message: 'tenant beta is not one of yours', reason: 'not-in-groups' },
    ],
    [
      'ReservedRoleError',
      new ReservedRoleError('admin', 'update'),
      403,
      {
        message: 'role admin is built in: it cannot be updated through the roles store',
        reason: 'reserved-role',
      },
    ],
    [
      'RefreshTokenError',
      new RefreshTokenError('the refresh token was refused: sign in again'),
      401,
      { message: 'the refresh token was refused: sign in again', reason: 'refresh-token' },
    ],
    [
      'NotFoundError',
      new NotFoundError('member', 'no member u9 in this tenant'),
      404,
      { message: 'no member u9 in this tenant', kind: 'member' },
    ],
    [
      'RoleNotFoundError',
      new RoleNotFoundError('acme', 'ghost'),
      404,
      { message: 'role ghost not found in tenant acme', kind: 'role' },
    ],
    [
      'ConflictError',
      new ConflictError('last-admin', 'a tenant must keep at least one admin'),
      409,
      { message: 'a tenant must keep at least one admin', reason: 'last-admin' },
    ],
    [
      'ConflictError role-changed',
      new ConflictError('role-changed', 'your role manager changed meanwhile; retry'),
      409,
      { message: 'your role manager changed meanwhile; retry', reason: 'role-changed' },
    ],
    [
      'RoleConflictError',
      new RoleConflictError('role pilot is not at version 2'),
      409,
      { message: 'role pilot is not at version 2', reason: 'conflict' },
    ],
  ];

  it.each(cases)('%s → %i', (_, error, status, body) => {
    const logger = recordingLogger();
    const response = errorResponse(error, logger, 'req-1');
    expect(response.statusCode).toBe(status);
    expect(response.headers).toEqual({ 'content-type': 'application/json' });
    expect(bodyOf(response)).toEqual(body);
    // Client errors are the client's: nothing logged as an error.
    expect(logger.entries).toEqual([]);
  });

  it('a 400 for a role never echoes the offending values back', () => {
    const response = errorResponse(
      new PolicyValidationError([{ field: 'name', value: '<script>', message: 'too long' }]),
      recordingLogger(),
      'r',
    );
    expect(response.body).not.toContain('<script>');
  });

  const secret = 'db-password=hunter2';
  const internal = [
    ['an Error', Object.assign(new Error(`connect failed: ${secret}`), { name: 'TypeError' })],
    ['TenantsConfigError', new TenantsConfigError([`bad option ${secret}`])],
    ['WriteConditionError', new WriteConditionError([{ index: 0, item: { secret } }])],
    ['a thrown string', `raw ${secret}`],
    ['undefined', undefined],
  ] as const;

  it.each(internal)('%s → 500 naming only the request id (no message, no stack)', (_, error) => {
    const logger = recordingLogger();
    const response = errorResponse(error, logger, 'req-42');
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response)).toEqual({ message: 'internal error', requestId: 'req-42' });
    expect(response.body).not.toContain('hunter2');
    expect(response.body).not.toMatch(/\bat \S+:\d+/);
    // The operator gets it in the log, with the request id to find it.
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]?.level).toBe('error');
    expect(logger.entries[0]?.extra[0]).toMatchObject({ requestId: 'req-42' });
  });

  it('logs an Error by name and message only (no stack)', () => {
    const logger = recordingLogger();
    errorResponse(new Error('boom'), logger, 'r');
    expect(logger.entries[0]).toEqual({
      level: 'error',
      message: 'request failed',
      extra: [{ error: { name: 'Error', message: 'boom' }, requestId: 'r' }],
    });
  });

  it('an event without authorizer context is a wiring fault: 500, logged as such', () => {
    const logger = recordingLogger();
    const response = errorResponse(new TenantContextError('no authorizer context'), logger, 'r');
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response)).toEqual({ message: 'internal error', requestId: 'r' });
    expect(logger.entries[0]?.message).toBe('no authorizer context');
  });
});

describe('json', () => {
  it('an empty body for no content', () => {
    expect(json(204)).toEqual({
      statusCode: 204,
      headers: { 'content-type': 'application/json' },
      body: '',
    });
  });
});

// --- tenantOf ----------------------------------------------------------------------------------

describe('tenantOf', () => {
  it('reads the tenant context (REST)', () => {
    const ctx = tenantOf(
      parseApiEvent(restEvent('GET', '/members', { authorizer: tenantContext })),
    );
    expect(ctx).toMatchObject({
      tenantId: 'acme',
      userId: 'u1',
      role: 'pilot',
      groups: ['acme', 'beta'],
    });
    expect(ctx.credentials.accessKeyId).toBe('ASIAEXAMPLE');
  });

  it('reads the tenant context (HTTP API v2, under authorizer.lambda)', () => {
    const ctx = tenantOf(
      parseApiEvent(httpEvent('GET /members', '/members', { authorizer: tenantContext })),
    );
    expect(ctx.tenantId).toBe('acme');
  });

  it('a tenant-less caller is TenantAccessError no-active-tenant', () => {
    const error = (() => {
      try {
        tenantOf(parseApiEvent(restEvent('GET', '/members', { authorizer: tenantlessContext })));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TenantAccessError);
    expect(error).toMatchObject({ reason: 'no-active-tenant' });
  });

  it('no authorizer context stays a TenantContextError (a 500, not a 403)', () => {
    expect(() => tenantOf(parseApiEvent(restEvent('GET', '/members')))).toThrow(TenantContextError);
  });

  it('a malformed tenant context stays a TenantContextError', () => {
    const { sessionToken: _, ...broken } = tenantContext;
    expect(() =>
      tenantOf(parseApiEvent(restEvent('GET', '/members', { authorizer: broken }))),
    ).toThrow(TenantContextError);
  });
});

// --- createRouter ------------------------------------------------------------------------------

describe('createRouter', () => {
  const logger = recordingLogger();
  const router = createRouter(
    {
      async 'GET /members'(request) {
        return json(200, { tenant: tenantOf(request).tenantId });
      },
      async 'PUT /members/{userId}'(request) {
        return json(200, { userId: request.pathParameters.userId, ...request.json() });
      },
      async 'POST /tenants'() {
        throw new ConflictError('already-exists', 'in progress');
      },
      async 'GET /boom'() {
        throw new Error('secret internals');
      },
      async 'POST /members'() {
        throw new RightsExceededError('members:invite', {
          roleId: 'root',
          pattern: '*',
          example: 'x0',
          gap: 'not-granted',
        });
      },
    },
    logger,
  );

  it('routes REST and HTTP API events to the same handler', async () => {
    const rest = await router(
      restEvent('PUT', '/members/{userId}', {
        pathParameters: { userId: 'u-bob' },
        body: '{"role":"pilot"}',
      }),
    );
    const http = await router(
      httpEvent('PUT /members/{userId}', '/members/u-bob', {
        pathParameters: { userId: 'u-bob' },
        body: '{"role":"pilot"}',
      }),
    );
    for (const response of [rest, http]) {
      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toEqual({ userId: 'u-bob', role: 'pilot' });
    }
  });

  it('an unknown route is a 404', async () => {
    const response = await router(restEvent('GET', '/nope'));
    expect(response.statusCode).toBe(404);
    expect(bodyOf(response)).toEqual({ message: 'no route GET /nope' });
    expect((await router(null)).statusCode).toBe(404);
  });

  it('a tenant-less caller on a tenant route is a 403 no-active-tenant', async () => {
    const response = await router(restEvent('GET', '/members', { authorizer: tenantlessContext }));
    expect(response.statusCode).toBe(403);
    expect(bodyOf(response)).toMatchObject({ reason: 'no-active-tenant' });
  });

  it('a bad body is a 400 naming body', async () => {
    const response = await router(
      restEvent('PUT', '/members/{userId}', { pathParameters: { userId: 'u' }, body: '{' }),
    );
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toEqual({
      message: 'invalid request',
      issues: [{ field: 'body', message: 'must be JSON' }],
    });
  });

  it('typed errors map to their status', async () => {
    const response = await router(httpEvent('POST /tenants', '/tenants'));
    expect(response.statusCode).toBe(409);
    expect(bodyOf(response)).toEqual({ message: 'in progress', reason: 'already-exists' });
  });

  it('a grant beyond the caller is a 403 naming the role, the pattern, an example and the gap', async () => {
    const response = await router(httpEvent('POST /members', '/members'));
    expect(response.statusCode).toBe(403);
    expect(bodyOf(response)).toEqual({
      message:
        'permission denied for members:invite: role root grants * (e.g. x0), which your role does not grant',
      action: 'members:invite',
      reason: 'exceeds-own-role',
      role: 'root',
      pattern: '*',
      example: 'x0',
      gap: 'not-granted',
    });
  });

  it('anything else is a 500 with the Lambda request id and no message', async () => {
    const response = await router(restEvent('GET', '/boom'), { awsRequestId: 'aws-req-7' });
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response)).toEqual({ message: 'internal error', requestId: 'aws-req-7' });
    expect(response.body).not.toContain('secret');
    const noContext = await router(restEvent('GET', '/boom'));
    expect(bodyOf(noContext).requestId).toBe('unknown');
  });
});
