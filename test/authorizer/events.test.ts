import { describe, expect, it } from 'vitest';
import {
  apiWideArn,
  EventKind,
  extractToken,
  findHeader,
  iamResponse,
  parseAuthorizerEvent,
  parseExecuteApiArn,
  routeArn,
  simpleResponse,
} from '../../authorizer/events.js';
import {
  ARN_PREFIX,
  httpV1Event,
  httpV2Event,
  restRequestEvent,
  tokenEvent,
} from '../fixtures/events.js';

describe('extractToken', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
    ['Bearer ', undefined],
    ['abc', 'abc'],
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
    ['Basic abc', 'Basic abc'],
  ])('%j → %j', (raw, expected) => {
    expect(extractToken(raw)).toBe(expected);
  });
});

describe('findHeader', () => {
  it('is case-insensitive over headers and multiValueHeaders', () => {
    expect(findHeader({ headers: { AUTHORIZATION: 'x' } }, 'authorization')).toBe('x');
    expect(findHeader({ multiValueHeaders: { Authorization: ['y'] } }, 'authorization')).toBe('y');
    expect(findHeader({ headers: { a: 'x' }, multiValueHeaders: { A: ['x'] } }, 'a')).toBe('x');
  });
  it('refuses ambiguous repeated headers rather than picking one', () => {
    expect(findHeader({ multiValueHeaders: { Authorization: ['a', 'b'] } }, 'authorization')).toBe(
      undefined,
    );
    expect(
      findHeader({ headers: { authorization: 'a', Authorization: 'b' } }, 'authorization'),
    ).toBe(undefined);
  });
  it('ignores non-string values', () => {
    expect(findHeader({ headers: { authorization: 42 } }, 'authorization')).toBe(undefined);
    expect(findHeader({ headers: null }, 'authorization')).toBe(undefined);
  });
});

describe('parseExecuteApiArn', () => {
  it('splits a method ARN', () => {
    expect(parseExecuteApiArn(`${ARN_PREFIX}/prod/GET/aircraft/42`)).toEqual({
      prefix: ARN_PREFIX,
      stage: 'prod',
      method: 'GET',
      path: '/aircraft/42',
    });
  });
  it('handles $default routes and stages', () => {
    expect(parseExecuteApiArn(`${ARN_PREFIX}/$default/$default`)).toMatchObject({
      stage: '$default',
      method: '$DEFAULT',
      path: '',
    });
  });
  it.each(['', 'arn:aws:s3:::bucket', `${ARN_PREFIX}`, `${ARN_PREFIX}/prod`, 'nonsense'])(
    'rejects %j',
    (arn) => {
      expect(parseExecuteApiArn(arn)).toBeUndefined();
    },
  );
  it('builds API-wide and route ARNs', () => {
    const arn = parseExecuteApiArn(`${ARN_PREFIX}/prod/GET/aircraft/42`);
    if (!arn) throw new Error('unparsed');
    expect(apiWideArn(arn)).toBe(`${ARN_PREFIX}/prod/*/*`);
    expect(routeArn(arn, 'POST /tenants')).toBe(`${ARN_PREFIX}/prod/POST/tenants`);
    expect(routeArn(arn, 'GET /tenants/{id}/members')).toBe(
      `${ARN_PREFIX}/prod/GET/tenants/*/members`,
    );
    expect(routeArn(arn, 'ANY /x')).toBe(`${ARN_PREFIX}/prod/*/x`);
  });
});

describe('parseAuthorizerEvent', () => {
  it('REST TOKEN: token with or without Bearer, route from the ARN', () => {
    const r = parseAuthorizerEvent(tokenEvent({ token: 'tkn', method: 'POST', path: '/tenants' }));
    expect(r).toMatchObject({
      kind: EventKind.restToken,
      token: 'tkn',
      route: 'POST /tenants',
      host: undefined,
    });
    expect(parseAuthorizerEvent({ ...tokenEvent(), authorizationToken: 'raw' }).token).toBe('raw');
  });
  it('REST REQUEST: header token, host, resource template as route', () => {
    const e = {
      ...restRequestEvent({ token: 'tkn', host: 'Foo.Example.com:443' }),
      resource: '/aircraft/{id}',
    };
    expect(parseAuthorizerEvent(e)).toMatchObject({
      kind: EventKind.restRequest,
      token: 'tkn',
      route: 'GET /aircraft/{id}',
      host: 'foo.example.com',
    });
  });
  it('REST REQUEST: multiValueHeaders only', () => {
    const e = { ...restRequestEvent(), multiValueHeaders: { authorization: ['Bearer mv'] } };
    expect(parseAuthorizerEvent(e).token).toBe('mv');
  });
  it('HTTP API 1.0', () => {
    const r = parseAuthorizerEvent(httpV1Event({ token: 'tkn', host: 'a.example.com' }));
    expect(r).toMatchObject({
      kind: EventKind.httpV1,
      token: 'tkn',
      host: 'a.example.com',
      route: 'GET /aircraft',
    });
  });
  it('HTTP API 2.0: header wins over identitySource; falls back to identitySource', () => {
    const r = parseAuthorizerEvent(httpV2Event({ token: 'tkn', method: 'POST', path: '/tenants' }));
    expect(r).toMatchObject({ kind: EventKind.httpV2, token: 'tkn', route: 'POST /tenants' });
    const e = { ...httpV2Event(), identitySource: ['Bearer fallback'] };
    expect(parseAuthorizerEvent(e).token).toBe('fallback');
  });
  it('HTTP API 2.0: host from requestContext.domainName when no header', () => {
    const e = { ...httpV2Event({ token: 't' }), headers: { authorization: 't' } };
    expect(parseAuthorizerEvent(e).host).toBe('abcdef1234.execute-api.us-east-1.amazonaws.com');
  });
  it.each([null, undefined, 42, 'x', [], {}, { type: 'WEIRD' }])(
    'unknown shape %j has no token',
    (e) => {
      expect(parseAuthorizerEvent(e).token).toBeUndefined();
    },
  );
});

describe('what is not an authorizer event of a known type gets no token', () => {
  // Only TOKEN and REQUEST (and HTTP API 2.0) carry a credential: an event of another type that
  // happens to hold an Authorization header or an authorizationToken must not be read as one.
  it.each([
    { type: 'WEIRD', headers: { Authorization: 'Bearer tkn' }, methodArn: `${ARN_PREFIX}/p/GET/x` },
    { type: 'request', authorizationToken: 'tkn', methodArn: `${ARN_PREFIX}/p/GET/x` },
    { headers: { authorization: 'tkn' }, authorizationToken: 'tkn' },
    { version: '1.0', headers: { authorization: 'tkn' } },
  ])('%j', (event) => {
    expect(parseAuthorizerEvent(event)).toMatchObject({
      kind: EventKind.restToken,
      token: undefined,
      route: 'GET /',
      host: undefined,
    });
  });

  it('REST REQUEST reads no authorizationToken (only HTTP API 1.0 sends one)', () => {
    const rest = { ...restRequestEvent(), authorizationToken: 'tkn' };
    expect(parseAuthorizerEvent(rest).token).toBeUndefined();
    const v1 = { ...httpV1Event(), headers: {}, authorizationToken: 'Bearer tkn' };
    expect(parseAuthorizerEvent(v1).token).toBe('tkn');
  });

  it('HTTP API 2.0 without an Authorization header or identitySource has no token', () => {
    const e = { ...httpV2Event(), identitySource: 'Bearer not-an-array' };
    expect(parseAuthorizerEvent(e).token).toBeUndefined();
  });
});

describe('only execute-api ARNs are ARNs to scope a policy to', () => {
  it.each([
    ['another service', 'arn:aws:lambda:us-east-1:123456789012:abcdef1234/prod/GET/x'],
    ['not an ARN', 'urn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/x'],
    ['no stage', `${ARN_PREFIX}//GET/x`],
    ['no method', `${ARN_PREFIX}/prod/`],
    ['no api id', 'arn:aws:execute-api:us-east-1:123456789012:/prod/GET/x'],
    ['too few parts', 'arn:aws:execute-api:us-east-1:abcdef1234/prod/GET'],
  ])('%s: %s', (_name, arn) => {
    expect(parseExecuteApiArn(arn)).toBeUndefined();
  });

  it('keeps the partition, region, account and api id; upper-cases the method', () => {
    const arn = 'arn:aws-cn:execute-api:cn-north-1:1:api/v1/post/a/b';
    expect(parseExecuteApiArn(arn)).toEqual({
      prefix: 'arn:aws-cn:execute-api:cn-north-1:1:api',
      stage: 'v1',
      method: 'POST',
      path: '/a/b',
    });
    // A `:` inside the path is part of the path.
    expect(parseExecuteApiArn(`${ARN_PREFIX}/prod/GET/a:b`)?.path).toBe('/a:b');
  });
});

describe('routes and hosts', () => {
  it('the route is the template where API Gateway gives one, else the ARN path, `/` for none', () => {
    const v2 = { ...httpV2Event({ method: 'post', path: '/x' }), routeKey: '$default' };
    expect(parseAuthorizerEvent(v2).route).toBe('POST /x');
    const v2NoPath = { ...v2, rawPath: undefined, requestContext: {} };
    expect(parseAuthorizerEvent(v2NoPath).route).toBe('POST /x');
    const v2Nothing = { ...v2NoPath, routeArn: 'nonsense' };
    expect(parseAuthorizerEvent(v2Nothing).route).toBe(' /');
    const rest = { ...restRequestEvent({ path: '/a' }), resource: '$default', httpMethod: 'put' };
    expect(parseAuthorizerEvent(rest).route).toBe('PUT /a');
    const bare = { type: 'REQUEST', methodArn: `${ARN_PREFIX}/prod/DELETE` };
    expect(parseAuthorizerEvent(bare).route).toBe('DELETE /');
  });

  it.each([
    ['Acme.Example.com', 'acme.example.com'],
    [' acme.example.com:8443 ', 'acme.example.com'],
    ['acme.example.com.', 'acme.example.com'],
    [':443', undefined],
    ['   ', undefined],
  ])('host %j reads as %j', (host, expected) => {
    const e = { ...restRequestEvent(), headers: { Host: host }, multiValueHeaders: {} };
    expect(parseAuthorizerEvent(e).host).toBe(expected);
  });

  it('a REST host falls back to requestContext.domainName; a TOKEN event has none', () => {
    const e = {
      ...restRequestEvent(),
      headers: {},
      multiValueHeaders: {},
      requestContext: { domainName: 'Beta.Example.com' },
    };
    expect(parseAuthorizerEvent(e).host).toBe('beta.example.com');
    expect(parseAuthorizerEvent({ ...tokenEvent(), headers: { Host: 'x' } }).host).toBeUndefined();
  });
});

describe('responses', () => {
  it('an IAM policy for execute-api:Invoke, context only when given', () => {
    expect(iamResponse('u', 'Deny', ['r'])).toEqual({
      principalId: 'u',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: ['r'] }],
      },
    });
    expect(iamResponse('u', 'Allow', [], { a: 'b' }).context).toEqual({ a: 'b' });
    expect(simpleResponse(false)).toEqual({ isAuthorized: false });
    expect(simpleResponse(true, { a: 'b' })).toEqual({ isAuthorized: true, context: { a: 'b' } });
  });
});

describe('edges found by mutation testing', () => {
  it('only a leading Bearer is a scheme; the word inside a token stays', () => {
    expect(extractToken('abcbearer')).toBe('abcbearer');
    expect(extractToken('abc bearer xyz')).toBe('abc bearer xyz');
  });

  it('a header value that is no string is ignored, not counted as a second value', () => {
    expect(
      findHeader({ headers: { Authorization: 5, authorization: 'tok' } }, 'authorization'),
    ).toBe('tok');
    expect(
      findHeader(
        { headers: { authorization: 'tok' }, multiValueHeaders: { authorization: 'tok' } },
        'authorization',
      ),
    ).toBe('tok');
  });

  it('a segment holding a parameter among literals stays literal in a route ARN', () => {
    const arn = parseExecuteApiArn(`${ARN_PREFIX}/prod/GET/x`);
    if (arn === undefined) throw new Error('unparsed');
    expect(routeArn(arn, 'GET /a/x{id}/{id}y/{id}')).toBe(`${ARN_PREFIX}/prod/GET/a/x{id}/{id}y/*`);
  });
});

// Each test below kills a mutant that survived `npm run mutate authorizer` on main.
describe('HTTP API 2.0: header before fallback, template before path', () => {
  it('the Authorization header wins over identitySource[0], which may be the route key', () => {
    const e = {
      ...httpV2Event({ token: 'header-token' }),
      identitySource: ['GET /aircraft', 'Bearer header-token'],
    };
    expect(parseAuthorizerEvent(e).token).toBe('header-token');
    // Without the header (a custom identity source), identitySource[0] is the token.
    const custom = { ...e, headers: {}, identitySource: ['Bearer source-token'] };
    expect(parseAuthorizerEvent(custom).token).toBe('source-token');
  });

  it('the Host header wins over requestContext.domainName (a custom domain in front)', () => {
    const e = httpV2Event({ host: 'acme.example.com' });
    e.requestContext.domainName = 'abcdef1234.execute-api.us-east-1.amazonaws.com';
    expect(parseAuthorizerEvent(e).host).toBe('acme.example.com');
  });

  it('the route is the routeKey template, not the concrete path', () => {
    const e = { ...httpV2Event({ path: '/aircraft/42' }), routeKey: 'GET /aircraft/{id}' };
    expect(parseAuthorizerEvent(e).route).toBe('GET /aircraft/{id}');
  });

  it('a multi-value header value that is not a string is ignored, not counted as a second value', () => {
    const e = {
      ...restRequestEvent(),
      headers: {},
      multiValueHeaders: { Authorization: [42, 'Bearer tok'] },
    };
    expect(findHeader(e, 'authorization')).toBe('Bearer tok');
  });
});
