/** sam/cors.ts: the functions' CORS headers — the request's origin only when listed, never credentials. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { corsHeaders, withCors } from '../../sam/cors.js';
import { createRouter, json } from '../../sam/http.js';

const ALLOWED = new Set(['https://app.example.com', 'http://127.0.0.1:3002']);
const rest = (headers: Record<string, string>, multi?: Record<string, string[]>) => ({
  httpMethod: 'GET',
  resource: '/me',
  headers,
  ...(multi ? { multiValueHeaders: multi } : {}),
  requestContext: {},
});
const http = (headers: Record<string, string>) => ({
  version: '2.0',
  routeKey: 'GET /me',
  headers,
  requestContext: { http: { method: 'GET' } },
});

describe('corsHeaders', () => {
  it('names a listed origin, from REST (any case) and HTTP API (lower case) headers', () => {
    const expected = { 'access-control-allow-origin': 'https://app.example.com', vary: 'Origin' };
    expect(corsHeaders(rest({ Origin: 'https://app.example.com' }), ALLOWED)).toEqual(expected);
    expect(corsHeaders(rest({ ORIGIN: 'https://app.example.com' }), ALLOWED)).toEqual(expected);
    expect(corsHeaders(http({ origin: 'https://app.example.com' }), ALLOWED)).toEqual(expected);
    expect(
      corsHeaders(rest({}, { Origin: ['http://127.0.0.1:3002'] }), ALLOWED)[
        'access-control-allow-origin'
      ],
    ).toBe('http://127.0.0.1:3002');
  });

  it('an unlisted, near-miss, missing or doubled origin gets Vary alone', () => {
    for (const origin of [
      'https://evil.example.com',
      'https://app.example.com.evil.example',
      'https://app.example.com/',
      'http://app.example.com',
      'https://APP.example.com',
      'null',
      '*',
      '',
    ])
      expect(corsHeaders(http({ origin }), ALLOWED), origin).toEqual({ vary: 'Origin' });
    expect(corsHeaders(rest({}), ALLOWED)).toEqual({ vary: 'Origin' });
    expect(corsHeaders(null, ALLOWED)).toEqual({ vary: 'Origin' });
    const doubled = rest(
      { Origin: 'https://app.example.com' },
      { Origin: ['https://app.example.com', 'https://evil.example.com'] },
    );
    expect(corsHeaders(doubled, ALLOWED)).toEqual({ vary: 'Origin' });
  });

  test.prop([fc.webUrl().map((u) => new URL(u).origin)])(
    'any origin not in the list is never allowed, and credentials never are',
    (origin) => {
      const headers = corsHeaders(http({ origin }), ALLOWED);
      expect(headers['access-control-allow-origin']).toBe(ALLOWED.has(origin) ? origin : undefined);
      expect(Object.keys(headers)).not.toContain('access-control-allow-credentials');
    },
  );
});

describe('withCors and the router', () => {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const router = createRouter(
    {
      async 'GET /me'() {
        return json(200, { ok: true });
      },
      async 'GET /boom'() {
        throw new Error('boom');
      },
    },
    silent,
    { allowedOrigins: [...ALLOWED] },
  );

  it('every answer carries the headers: success, 404 and 500 alike', async () => {
    const origin = { origin: 'https://app.example.com' };
    const ok = await router(http(origin));
    const missing = await router({ ...http(origin), routeKey: 'GET /nope' });
    const failed = await router({ ...http(origin), routeKey: 'GET /boom' });
    expect([ok.statusCode, missing.statusCode, failed.statusCode]).toEqual([200, 404, 500]);
    for (const r of [ok, missing, failed]) {
      expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(r.headers.vary).toBe('Origin');
      expect(r.headers['content-type']).toBe('application/json');
    }
  });

  it('a router without origins allows none', async () => {
    const none = createRouter(
      {
        async 'GET /me'() {
          return json(200, {});
        },
      },
      silent,
    );
    const r = await none(http({ origin: 'https://app.example.com' }));
    expect(r.headers).toEqual({ 'content-type': 'application/json', vary: 'Origin' });
  });

  it('wraps any proxy handler and lets its errors through', async () => {
    const wrapped = withCors(
      async () => ({ statusCode: 204, body: '' }),
      ['https://app.example.com'],
    );
    expect((await wrapped(http({ origin: 'https://app.example.com' }))).headers).toEqual({
      'access-control-allow-origin': 'https://app.example.com',
      vary: 'Origin',
    });
    const failing = withCors(async () => {
      throw new Error('x');
    }, []);
    await expect(failing({})).rejects.toThrow('x');
  });
});
