import { describe, expect, it } from 'vitest';
import {
  apiWideArn,
  EventKind,
  extractToken,
  findHeader,
  parseAuthorizerEvent,
  parseExecuteApiArn,
  routeArn,
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
