import { describe, expect, it } from 'vitest';
import { AuthorizerConfigError } from '../../authorizer/errors.js';
import { createTenantRules, DenyReason, isTenantId } from '../../authorizer/tenant.js';
import type { VerifiedIdToken } from '../../authorizer/types.js';

const POOL = 'us-east-1_Pool1';
const verified = (claims: Record<string, unknown>, userPoolId = POOL): VerifiedIdToken => ({
  payload: Object.freeze({ sub: 'user-1', ...claims }),
  userPoolId,
  providerName: `cognito-idp.us-east-1.amazonaws.com/${userPoolId}`,
  sub: 'user-1',
  exp: 2_000_000_000,
});
const at = (route = 'GET /aircraft', host?: string) => ({ route, host });

describe('pooled mode', () => {
  const rules = createTenantRules();

  it('a member of the claimed tenant is a member, with role and groups', () => {
    const p = rules.resolve(
      verified({
        'custom:tenant_id': 'acme',
        'custom:role': 'pilot',
        'cognito:groups': ['acme', 'beta'],
      }),
      at(),
    );
    expect(p).toEqual({
      kind: 'member',
      tenantId: 'acme',
      userId: 'user-1',
      role: 'pilot',
      groups: ['acme', 'beta'],
    });
  });

  it('a missing role is the empty string', () => {
    const p = rules.resolve(
      verified({ 'custom:tenant_id': 'acme', 'cognito:groups': ['acme'] }),
      at(),
    );
    expect(p).toMatchObject({ kind: 'member', role: '' });
  });

  it.each([
    [
      'tenant not in groups',
      { 'custom:tenant_id': 'acme', 'cognito:groups': ['beta'] },
      DenyReason.tenantNotInGroups,
    ],
    ['no groups at all', { 'custom:tenant_id': 'acme' }, DenyReason.tenantNotInGroups],
    [
      'groups not an array',
      { 'custom:tenant_id': 'acme', 'cognito:groups': 'acme' },
      DenyReason.tenantNotInGroups,
    ],
    [
      'tenant id with #',
      { 'custom:tenant_id': 'acme#x', 'cognito:groups': ['acme#x'] },
      DenyReason.invalidTenantId,
    ],
    [
      'tenant id wildcard',
      { 'custom:tenant_id': '*', 'cognito:groups': ['*'] },
      DenyReason.invalidTenantId,
    ],
    [
      'tenant id not a string',
      { 'custom:tenant_id': 7, 'cognito:groups': ['7'] },
      DenyReason.invalidTenantId,
    ],
  ])('%s → deny', (_name, claims, reason) => {
    expect(rules.resolve(verified(claims), at())).toEqual({
      kind: 'denied',
      userId: 'user-1',
      reason,
    });
  });

  it('no tenant claim (or empty) → tenantless, whatever the route', () => {
    expect(rules.resolve(verified({}), at('POST /tenants'))).toMatchObject({ kind: 'tenantless' });
    expect(rules.resolve(verified({ 'custom:tenant_id': '' }), at())).toMatchObject({
      kind: 'tenantless',
    });
  });

  it('matches tenantless routes, with path parameters', () => {
    const r = createTenantRules({ tenantlessRoutes: ['POST /tenants', 'GET /invites/{code}'] });
    expect(r.isTenantlessRoute('POST /tenants')).toBe(true);
    expect(r.isTenantlessRoute('POST /tenants/')).toBe(true);
    expect(r.isTenantlessRoute('GET /tenants')).toBe(false);
    expect(r.isTenantlessRoute('POST /tenants/x')).toBe(false);
    expect(r.isTenantlessRoute('GET /invites/abc')).toBe(true);
    expect(r.isTenantlessRoute('GET /invites/abc/x')).toBe(false);
    expect(rules.isTenantlessRoute('GET /me/tenants')).toBe(true);
  });
});

describe('host check', () => {
  const rules = createTenantRules({ hostBaseDomain: 'Example.com' });
  const member = verified({ 'custom:tenant_id': 'foobar', 'cognito:groups': ['foobar', 'other'] });

  it('serves a tenant on its own subdomain only', () => {
    expect(rules.resolve(member, at('GET /x', 'foobar.example.com'))).toMatchObject({
      kind: 'member',
    });
    expect(rules.resolve(member, at('GET /x', 'other.example.com'))).toMatchObject({
      reason: DenyReason.hostMismatch,
    });
    expect(rules.resolve(member, at('GET /x', 'a.foobar.example.com'))).toMatchObject({
      reason: DenyReason.hostMismatch,
    });
    expect(rules.resolve(member, at('GET /x', 'foobar.example.com.evil.io'))).toMatchObject({
      reason: DenyReason.hostMismatch,
    });
  });

  it('fails closed without a host (TOKEN events)', () => {
    expect(rules.resolve(member, at('GET /x', undefined))).toMatchObject({
      reason: DenyReason.hostMismatch,
    });
  });
});

describe('siloed mode', () => {
  const rules = createTenantRules({ mode: 'siloed', poolTenants: { [POOL]: 'acme' } });

  it('the tenant comes from the issuing pool', () => {
    expect(rules.resolve(verified({}), at())).toMatchObject({ kind: 'member', tenantId: 'acme' });
  });
  it('a token naming another tenant is denied', () => {
    expect(rules.resolve(verified({ 'custom:tenant_id': 'beta' }), at())).toMatchObject({
      reason: DenyReason.tenantMismatch,
    });
  });
  it('an unmapped pool is denied', () => {
    expect(rules.resolve(verified({}, 'us-east-1_Other'), at())).toMatchObject({
      reason: DenyReason.unknownPool,
    });
  });
});

describe('options', () => {
  it('lists every problem in one error', () => {
    let error: unknown;
    try {
      createTenantRules({
        mode: 'siloed',
        tenantClaim: ' ',
        tenantlessRoutes: ['tenants', 'FETCH /x'],
        hostBaseDomain: '',
        poolTenants: {},
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthorizerConfigError);
    expect((error as AuthorizerConfigError).issues).toHaveLength(5);
  });

  // The exact wording: what an operator reads when a deploy fails at init.
  it('names each problem and the value given', () => {
    const issuesOf = (options: Parameters<typeof createTenantRules>[0]) => {
      try {
        createTenantRules(options);
      } catch (error) {
        expect(error).toBeInstanceOf(AuthorizerConfigError);
        return (error as AuthorizerConfigError).issues;
      }
      return [];
    };
    expect(
      issuesOf({
        mode: 'hybrid' as 'pooled',
        tenantClaim: ' ',
        roleClaim: '',
        poolTenants: { 'us-east-1_A': 'a b' },
        tenantlessRoutes: ['tenants'],
        hostBaseDomain: ' . ',
      }),
    ).toEqual([
      'mode must be pooled or siloed, got "hybrid"',
      'tenantClaim must not be empty',
      'roleClaim must not be empty',
      'tenant of pool us-east-1_A is not a valid tenant id: "a b"',
      'tenantless route must be "METHOD /path", got "tenants"',
      'hostBaseDomain must not be empty',
    ]);
    expect(issuesOf({ mode: 'siloed' })).toEqual([
      'siloed mode needs a tenant for every user pool',
    ]);
  });
  it('tenant ids are a safe alphabet', () => {
    expect(isTenantId('acme-1_B')).toBe(true);
    for (const bad of ['', 'a#b', 'a*', 'a?', 'a b', 'a/b', 'x'.repeat(65), null])
      expect(isTenantId(bad)).toBe(false);
  });
});

describe('edges of the rules', () => {
  it('custom claims name the tenant and the role; the defaults are then not read', () => {
    const rules = createTenantRules({ tenantClaim: 'custom:org', roleClaim: 'custom:job' });
    const p = rules.resolve(
      verified({
        'custom:org': 'acme',
        'custom:job': 'pilot',
        'custom:tenant_id': 'beta',
        'custom:role': 'admin',
        'cognito:groups': ['acme', 'beta'],
      }),
      at(),
    );
    expect(p).toMatchObject({ kind: 'member', tenantId: 'acme', role: 'pilot' });
  });

  it('a role claim that is no string is the empty role; non-string groups are dropped', () => {
    const p = rules().resolve(
      verified({
        'custom:tenant_id': 'acme',
        'custom:role': ['admin'],
        'cognito:groups': [7, 'acme'],
      }),
      at(),
    );
    expect(p).toEqual({
      kind: 'member',
      tenantId: 'acme',
      userId: 'user-1',
      role: '',
      groups: ['acme'],
    });
  });

  it('a tenant-less token keeps its groups', () => {
    expect(rules().resolve(verified({ 'cognito:groups': ['x', 3] }), at())).toEqual({
      kind: 'tenantless',
      userId: 'user-1',
      groups: ['x'],
    });
  });

  it('siloed mode with a token naming its own pool tenant, or an empty one, is a member', () => {
    const siloed = createTenantRules({ mode: 'siloed', poolTenants: { [POOL]: 'acme' } });
    expect(siloed.resolve(verified({ 'custom:tenant_id': 'acme' }), at())).toMatchObject({
      kind: 'member',
      tenantId: 'acme',
    });
    // Siloed tenants need no group: the pool itself is the tenant.
    expect(siloed.resolve(verified({ 'cognito:groups': [] }), at())).toMatchObject({
      kind: 'member',
    });
    expect(siloed.mode).toBe('siloed');
  });

  it('the host check applies in siloed mode too, and compares case-insensitively', () => {
    const siloed = createTenantRules({
      mode: 'siloed',
      poolTenants: { [POOL]: 'Acme' },
      hostBaseDomain: '.example.com.',
    });
    expect(siloed.resolve(verified({}), at('GET /', 'acme.example.com'))).toMatchObject({
      kind: 'member',
    });
    expect(siloed.resolve(verified({}), at('GET /', 'example.com'))).toMatchObject({
      reason: DenyReason.hostMismatch,
    });
    expect(siloed.resolve(verified({}), at('GET /', '.example.com'))).toMatchObject({
      reason: DenyReason.hostMismatch,
    });
  });

  it('route patterns: ANY matches every method; regex characters in a path are literal', () => {
    const r = createTenantRules({ tenantlessRoutes: ['ANY /me', 'GET /a.b/{id}', 'PUT /x+y'] });
    expect(r.isTenantlessRoute('DELETE /me')).toBe(true);
    expect(r.isTenantlessRoute('GET /a.b/1')).toBe(true);
    expect(r.isTenantlessRoute('GET /aXb/1')).toBe(false);
    expect(r.isTenantlessRoute('PUT /x+y')).toBe(true);
    expect(r.isTenantlessRoute('PUT /xxy')).toBe(false);
    expect(r.isTenantlessRoute('GET /a.b/')).toBe(false);
    expect(r.isTenantlessRoute('XGET /a.b/1')).toBe(false);
    expect(r.tenantlessRoutes).toEqual(['ANY /me', 'GET /a.b/{id}', 'PUT /x+y']);
    expect(Object.isFrozen(r.tenantlessRoutes)).toBe(true);
  });

  it.each([
    [{ mode: 'hybrid' as 'pooled' }, /mode must be pooled or siloed/],
    [{ roleClaim: '' }, /roleClaim must not be empty/],
    [{ tenantClaim: '' }, /tenantClaim must not be empty/],
    [{ hostBaseDomain: ' . ' }, /hostBaseDomain must not be empty/],
    [{ tenantlessRoutes: ['GET /a b'] }, /tenantless route must be "METHOD \/path"/],
    [{ tenantlessRoutes: ['GET  /a'] }, /tenantless route/],
    [{ poolTenants: { [POOL]: 'a#b' } }, /tenant of pool us-east-1_Pool1 is not a valid tenant id/],
  ])('%j is refused', (options, message) => {
    expect(() => createTenantRules(options)).toThrow(message);
  });

  it('pooled mode needs no pool tenants; every default route is a valid route', () => {
    expect(() => createTenantRules({ mode: 'pooled' })).not.toThrow();
    expect(createTenantRules().tenantlessRoutes).toEqual([
      'POST /tenants',
      'GET /me/tenants',
      'POST /me/tenant',
    ]);
  });
});

const rules = () => createTenantRules();

describe('edges found by mutation testing', () => {
  it('a blank role claim is refused like a blank tenant claim', () => {
    expect(() => createTenantRules({ roleClaim: ' ' })).toThrow(AuthorizerConfigError);
  });

  it('a tenant-less route must start with its method', () => {
    expect(() => createTenantRules({ tenantlessRoutes: ['xGET /a'] })).toThrow(
      AuthorizerConfigError,
    );
  });

  it('a segment holding a parameter among literals matches only itself', () => {
    const rules = createTenantRules({ tenantlessRoutes: ['GET /a/x{id}/{id}y'] });
    expect(rules.isTenantlessRoute('GET /a/x{id}/{id}y')).toBe(true);
    expect(rules.isTenantlessRoute('GET /a/xabc/{id}y')).toBe(false);
    expect(rules.isTenantlessRoute('GET /a/x{id}/abcy')).toBe(false);
  });
});
