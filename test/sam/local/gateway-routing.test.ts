import { describe, expect, it } from 'vitest';
import { compileRoutes } from '../../../sam/local/gateway/routing.js';

const build = (routes: [string, string][], allowDefault = false) => {
  const compiled = compileRoutes(
    routes.map(([method, path]) => ({ method, path, target: `${method} ${path}` })),
    allowDefault,
  );
  if (compiled.router === undefined) throw new Error(compiled.issues.join('\n'));
  return compiled.router;
};

describe('route matching', () => {
  // The example of "Routing API requests" in the HTTP API developer guide, plus our own routes.
  const router = build([
    ['GET', '/pets/dog/1'],
    ['GET', '/pets/dog/{id}'],
    ['GET', '/pets/{proxy+}'],
    ['ANY', '/{proxy+}'],
    ['GET', '/'],
    ['GET', '/me'],
    ['GET', '/me/tenants'],
    ['GET', '/aircraft/{id}'],
    ['PUT', '/aircraft/{id}'],
    ['ANY', '/aircraft/{id}'],
    ['GET', '/aircraft/special'],
    ['GET', '/tenants/{tenantId}/members/{userId}'],
  ]);

  it.each([
    ['GET', '/pets/dog/1', 'GET /pets/dog/1', null],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}', { id: '2' }],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}', { proxy: 'cat/1' }],
    ['POST', '/test/5', 'ANY /{proxy+}', { proxy: 'test/5' }],
    ['GET', '/', 'GET /', null],
    ['GET', '/me', 'GET /me', null],
    ['GET', '/me/tenants', 'GET /me/tenants', null],
    ['POST', '/me', 'ANY /{proxy+}', { proxy: 'me' }],
    ['GET', '/aircraft/special', 'GET /aircraft/special', null],
    ['GET', '/aircraft/42', 'GET /aircraft/{id}', { id: '42' }],
    ['PUT', '/aircraft/42', 'PUT /aircraft/{id}', { id: '42' }],
    ['DELETE', '/aircraft/42', 'ANY /aircraft/{id}', { id: '42' }],
    ['get', '/aircraft/42', 'GET /aircraft/{id}', { id: '42' }],
    ['GET', '/aircraft/a%20b', 'GET /aircraft/{id}', { id: 'a b' }],
    ['GET', '/aircraft/%E0%A4%A', 'GET /aircraft/{id}', { id: '%E0%A4%A' }],
    [
      'GET',
      '/tenants/t1/members/u2',
      'GET /tenants/{tenantId}/members/{userId}',
      { tenantId: 't1', userId: 'u2' },
    ],
    ['GET', '/aircraft/42/parts', 'ANY /{proxy+}', { proxy: 'aircraft/42/parts' }],
  ])('%s %s → %s', (method, path, routeKey, params) => {
    const match = router.match(method, path);
    expect(match?.route.routeKey).toBe(routeKey);
    expect(match?.route.target).toBe(routeKey);
    expect(match?.pathParameters).toEqual(params);
  });

  it('a greedy parameter does not match the root, and nothing else does', () => {
    expect(router.match('POST', '/')).toBeUndefined();
  });

  it('reports no match without a catch-all', () => {
    const small = build([
      ['GET', '/me'],
      ['GET', '/aircraft/{id}'],
    ]);
    expect(small.match('GET', '/nope')).toBeUndefined();
    expect(small.match('POST', '/me')).toBeUndefined();
    expect(small.match('GET', '/aircraft')).toBeUndefined();
    expect(small.match('GET', '/aircraft/')).toBeUndefined();
    expect(small.match('GET', '/aircraft/1/2')).toBeUndefined();
  });

  it('sends what nothing else matches to an HTTP API $default route', () => {
    const http = build(
      [
        ['GET', '/me'],
        ['ANY', '$default'],
      ],
      true,
    );
    expect(http.match('GET', '/me')?.route.routeKey).toBe('GET /me');
    expect(http.match('POST', '/me')?.route.routeKey).toBe('$default');
    expect(http.match('DELETE', '/x/y')?.route.routeKey).toBe('$default');
  });
});

describe('route validation', () => {
  it('lists every problem at once', () => {
    const compiled = compileRoutes(
      [
        { method: 'FETCH', path: '/a', target: 1 },
        { method: 'GET', path: 'b', target: 2 },
        { method: 'GET', path: '/{proxy+}/x', target: 3 },
        { method: 'GET', path: '/c', target: 4 },
        { method: 'get', path: '/c', target: 5 },
        { method: 'ANY', path: '$default', target: 6 },
        { method: 'GET', path: '/d e', target: 7 },
        { method: 'GET', path: '/{id}/{id}', target: 8 },
      ],
      false,
    );
    expect(compiled.router).toBeUndefined();
    expect(compiled.issues).toEqual([
      'routes[0] (FETCH /a): method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY',
      'routes[1] (GET b): path must start with "/"',
      'routes[2] (GET /{proxy+}/x): a greedy parameter {proxy+} must be the last segment',
      'routes[4] (GET /c): duplicate route GET /c',
      'routes[5] (ANY $default): $default routes exist only in HTTP APIs',
      'routes[6] (GET /d e): invalid path segment "d e"',
      'routes[7] (GET /{id}/{id}): path parameter {id} appears twice',
    ]);
  });
});
