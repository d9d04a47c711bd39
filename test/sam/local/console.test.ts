/** The demo console's pieces that run without a browser: its API client's words, and its server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, describeRefusal } from '../../../sam/local/console/api.js';
import { type ConsoleServer, startConsole } from '../../../sam/local/console/server.js';

describe('describeRefusal: what the page says', () => {
  it('a 401 asks to sign in again, with the API’s message', () => {
    expect(describeRefusal(401, { message: 'Unauthorized' })).toEqual({
      kind: 'sign-in',
      status: 401,
      text: 'Sign in again: the API did not accept your session (401: Unauthorized).',
    });
  });

  it('a 403 from a function names the action and the reason', () => {
    expect(
      describeRefusal(403, {
        message: 'permission denied for aircraft:update (no-match)',
        action: 'aircraft:update',
        reason: 'no-match',
      }),
    ).toEqual({
      kind: 'denied',
      status: 403,
      action: 'aircraft:update',
      reason: 'no-match',
      text: 'Not allowed (403): aircraft:update, reason no-match. The API said: “permission denied for aircraft:update (no-match)”',
    });
  });

  it('a 403 from API Gateway itself (Message, capital M) or a reason only', () => {
    expect(
      describeRefusal(403, { Message: 'User is not authorized to access this resource' }).text,
    ).toBe('Not allowed (403): User is not authorized to access this resource');
    expect(describeRefusal(403, { message: 'Forbidden' }).text).toBe(
      'Not allowed (403): Forbidden',
    );
    expect(
      describeRefusal(403, {
        message: 'create or switch to a tenant first',
        reason: 'no-active-tenant',
      }),
    ).toMatchObject({
      reason: 'no-active-tenant',
      text: 'Not allowed (403, no-active-tenant): create or switch to a tenant first',
    });
  });

  it('a 400 lists its fields; a 409 its reason; a 500 its request id', () => {
    expect(
      describeRefusal(400, {
        message: 'invalid request',
        issues: [{ field: 'registration', message: 'must be 2 to 10 of A-Z 0-9 -' }],
      }).text,
    ).toBe('Refused (400): invalid request — registration must be 2 to 10 of A-Z 0-9 -');
    expect(describeRefusal(409, { message: 'stale', reason: 'stale-version' }).text).toBe(
      'Refused (409, stale-version): stale',
    );
    expect(describeRefusal(500, { message: 'internal error', requestId: 'r-1' })).toEqual({
      kind: 'failed',
      status: 500,
      text: 'The API failed (500): internal error (request r-1)',
    });
  });
});

describe('callApi', () => {
  const answering =
    (status: number, body: string, seen: { url?: string; init?: RequestInit } = {}) =>
    async (url: string | URL | Request, init?: RequestInit) => {
      seen.url = String(url);
      if (init) seen.init = init;
      return new Response(status === 204 ? null : body, { status });
    };

  it('sends the ID token and JSON, reads JSON', async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const outcome = await callApi(
      'http://api',
      'tok',
      'POST',
      '/aircraft',
      { a: 1 },
      answering(201, '{"ok":true}', seen),
    );
    expect(outcome).toEqual({ ok: true, status: 201, body: { ok: true } });
    expect(seen.url).toBe('http://api/aircraft');
    expect(seen.init).toEqual({
      method: 'POST',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
  });

  it('a refusal is described, a body that is not JSON kept as text, an empty body as {}', async () => {
    expect(
      await callApi(
        'http://api',
        't',
        'GET',
        '/x',
        undefined,
        answering(401, '{"message":"Unauthorized"}'),
      ),
    ).toMatchObject({
      ok: false,
      kind: 'sign-in',
    });
    expect(
      await callApi('http://api', 't', 'GET', '/x', undefined, answering(502, 'Bad gateway')),
    ).toMatchObject({
      ok: false,
      text: 'The API failed (502): Bad gateway',
    });
    expect(await callApi('http://api', 't', 'DELETE', '/x', undefined, answering(204, ''))).toEqual(
      {
        ok: true,
        status: 204,
        body: {},
      },
    );
  });

  it('a fetch that rejects (how a browser reports a CORS refusal) is a network refusal, not a crash', async () => {
    const refused = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await callApi('http://api', 't', 'GET', '/x', undefined, refused)).toEqual({
      ok: false,
      kind: 'network',
      text: 'No readable answer from http://api (a network error, or CORS refused this page): Failed to fetch',
    });
  });
});

describe('the console server', () => {
  let server: ConsoleServer;
  const config = {
    region: 'us-east-1',
    userPoolId: 'us-east-1_Pool12345',
    userPoolClientId: 'client1',
    userPoolEndpoint: 'http://127.0.0.1:9229',
    apis: { rest: 'http://127.0.0.1:3000', http: 'http://127.0.0.1:3001' },
  };
  beforeAll(async () => {
    server = await startConsole({ config });
  });
  afterAll(() => server.stop());

  it('serves the page with a CSP that allows only itself, the user pool and the two APIs', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<script type="module" src="/app.js"></script>');
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' http://127.0.0.1:9229 http://127.0.0.1:3000 http://127.0.0.1:3001; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await (await fetch(`${server.url}/config.json`)).json()).toEqual(config);
    expect((await fetch(`${server.url}/style.css`)).headers.get('content-type')).toContain(
      'text/css',
    );
  });

  it('bundles the app (Amplify included) once, with no reference to any other host', async () => {
    const res = await fetch(`${server.url}/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/javascript');
    const js = await res.text();
    expect(js.length).toBeGreaterThan(50_000);
    expect(js).toContain('USER_SRP_AUTH');
    expect(js).not.toMatch(/\bimport\s*\(\s*["']https?:/);
  });

  it('404s anything else and refuses other methods', async () => {
    expect((await fetch(`${server.url}/etc/passwd`)).status).toBe(404);
    expect((await fetch(`${server.url}/../package.json`)).status).toBe(404);
    const post = await fetch(`${server.url}/`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
