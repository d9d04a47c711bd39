/** Every event in sam/events goes through `npm run invoke` and gives its documented outcome. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFunction } from '../../sam/build.js';
import { functionDefinitions, loadTemplate, ROOT } from '../../sam/template.js';

const api = (o: unknown) => {
  const r = o as { statusCode: number; body: string };
  return [r.statusCode, JSON.parse(r.body)];
};
const fields = (o: unknown) => {
  const [status, body] = api(o) as [number, { issues: { field: string }[] }];
  return [status, body.issues.map((i) => i.field)];
};
const unauthorized = { errorType: 'Error', errorMessage: 'Unauthorized' };
const expected: Record<string, { fn: string; exit: number; check: (out: unknown) => void }> = {
  'authorizer-rest-token.json': {
    fn: 'AuthorizerFunction',
    exit: 1,
    check: (o) => expect(o).toEqual(unauthorized),
  },
  'authorizer-rest-request.json': {
    fn: 'AuthorizerFunction',
    exit: 1,
    check: (o) => expect(o).toEqual(unauthorized),
  },
  'authorizer-http-v2.json': {
    fn: 'AuthorizerFunction',
    exit: 1,
    check: (o) => expect(o).toEqual(unauthorized),
  },
  'authorizer-missing-token.json': {
    fn: 'AuthorizerFunction',
    exit: 1,
    check: (o) => expect(o).toEqual(unauthorized),
  },
  'authorizer-malformed-token.json': {
    fn: 'AuthorizerFunction',
    exit: 1,
    check: (o) => expect(o).toEqual(unauthorized),
  },
  'whoami-rest.json': {
    fn: 'WhoAmIFunction',
    exit: 0,
    check: (o) => {
      const r = o as { statusCode: number; body: string };
      expect(r.statusCode).toBe(200);
      expect(JSON.parse(r.body)).toEqual({
        tenantId: 'acme',
        userId: '6c1f2b1e-0000-4000-8000-000000000001',
        role: 'pilot',
        groups: ['acme', 'beta'],
      });
      expect(r.body).not.toContain('secret');
    },
  },
  'tenants-create-invalid.json': {
    fn: 'TenantsFunction',
    exit: 0,
    check: (o) =>
      expect(api(o)).toEqual([
        400,
        {
          message: 'invalid request',
          issues: [{ field: 'name', message: 'must be 1 to 100 characters' }],
        },
      ]),
  },
  'tenants-switch-invalid.json': {
    fn: 'TenantsFunction',
    exit: 0,
    check: (o) =>
      expect(api(o)).toMatchObject([
        400,
        {
          message: 'invalid request',
          issues: [{ field: 'tenantId' }, { field: 'refreshToken' }],
        },
      ]),
  },
  'members-invite-invalid.json': {
    fn: 'MembersFunction',
    exit: 0,
    check: (o) => expect(fields(o)).toEqual([400, ['email', 'role']]),
  },
  'roles-create-invalid.json': {
    fn: 'RolesFunction',
    exit: 0,
    check: (o) => expect(fields(o)).toEqual([400, ['allow[1]', 'deny[0]']]),
  },
  'roles-delete-no-version.json': {
    fn: 'RolesFunction',
    exit: 0,
    check: (o) => expect(fields(o)).toEqual([400, ['version']]),
  },
  'aircraft-create-invalid.json': {
    fn: 'AircraftFunction',
    exit: 0,
    check: (o) => expect(fields(o)).toEqual([400, ['registration', 'model', 'status']]),
  },
  'aircraft-tenantless.json': {
    fn: 'AircraftFunction',
    exit: 0,
    check: (o) =>
      expect(api(o)).toEqual([
        403,
        { message: 'create or switch to a tenant first', reason: 'no-active-tenant' },
      ]),
  },
  'post-confirmation-no-email.json': {
    fn: 'PostConfirmationFunction',
    exit: 1,
    check: (o) =>
      expect(o).toEqual({
        errorType: 'InvalidInputError',
        errorMessage: 'invalid input:\n- email: is required',
      }),
  },
  'whoami-unauthenticated.json': {
    fn: 'WhoAmIFunction',
    exit: 0,
    check: (o) => expect((o as { statusCode: number }).statusCode).toBe(401),
  },
};

describe('npm run invoke', () => {
  it('every event file has a documented outcome', () => {
    const files = readdirSync(join(ROOT, 'sam', 'events')).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s', (file, { fn, exit, check }) => {
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        join(ROOT, 'sam', 'invoke.ts'),
        fn,
        '-e',
        join('sam', 'events', file),
        '--env-vars',
        join('sam', 'env.json'),
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.status, run.stderr).toBe(exit);
    check(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? 'null'));
    // Logs go to stderr and never carry the token.
    expect(run.stderr).not.toContain('REPLACE_WITH_ID_TOKEN');
  });

  it('a missing argument is a usage error', () => {
    const run = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'sam', 'invoke.ts')],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: npm run invoke/);
  });
});

describe('npm run build', () => {
  const fns = functionDefinitions(loadTemplate());
  const bundles: Record<string, string> = {};
  beforeAll(async () => {
    for (const fn of fns) bundles[fn.logicalId] = await buildFunction(fn);
  }, 120_000);

  it.each(fns.map((f) => [f.logicalId, f] as const))(
    '%s: the handler resolves to an exported function of its bundle',
    async (_id, fn) => {
      const bundle = bundles[fn.logicalId] ?? '';
      expect(bundle.endsWith('.mjs')).toBe(true);
      const text = (await import('node:fs')).readFileSync(bundle, 'utf8');
      const exportName = fn.handler.split('.').at(-1) ?? '';
      // Importing the authorizer would run its init (reads env): check the export list instead.
      expect(text).toMatch(
        new RegExp(
          `export\\s*\\{[^}]*\\bas ${exportName}\\b|export\\s*\\{[^}]*\\b${exportName}\\b`,
        ),
      );
      expect(fn.runtime).toBe('nodejs22.x');
    },
  );
});
