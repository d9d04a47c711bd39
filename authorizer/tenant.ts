/**
 * Claims → principal: which tenant a verified token may act for, and every rule that can refuse it.
 * Pure functions over already-verified claims; nothing here can Allow a token that was not verified.
 */
import { AuthorizerConfigError } from './errors.js';
import type { VerifiedIdToken } from './types.js';

/** Why a verified token is refused (a 403). Logged and put in the Deny context; never secret. */
export const DenyReason = {
  noTenant: 'no-tenant',
  tenantNotInGroups: 'tenant-not-in-groups',
  invalidTenantId: 'invalid-tenant-id',
  tenantMismatch: 'tenant-mismatch',
  hostMismatch: 'host-mismatch',
  unknownPool: 'unknown-pool',
  membershipRevoked: 'membership-revoked',
  invalidRequest: 'invalid-request',
} as const;
export type DenyReason = (typeof DenyReason)[keyof typeof DenyReason];

/**
 * Tenant ids end up inside DynamoDB keys (`TENANT#<id>`) and inside IAM `StringLike` patterns through
 * principal tags. A `#` would let tenant `a` reach `TENANT#a#…` keys of a tenant named `a#b`, and a
 * `*` or `?` would become a wildcard in `dynamodb:LeadingKeys`: so only this alphabet is accepted.
 */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Whether `value` is a tenant id of the safe alphabet ({@link TENANT_ID_PATTERN}). */
export const isTenantId = (value: unknown): value is string =>
  typeof value === 'string' && TENANT_ID_PATTERN.test(value);

/**
 * `pooled`: one user pool for every tenant, the active tenant read from a claim and checked against
 * the user's groups; `siloed`: one user pool per tenant, the tenant given by the issuing pool.
 */
export type TenantMode = 'pooled' | 'siloed';

export interface TenantRulesOptions {
  readonly mode?: TenantMode;
  /** Claim naming the active tenant (pooled mode). Default `custom:tenant_id`. */
  readonly tenantClaim?: string;
  /** Claim naming the caller's role in the active tenant. Default `custom:role`. */
  readonly roleClaim?: string;
  /** Siloed mode: user pool id → the tenant it serves. */
  readonly poolTenants?: Readonly<Record<string, string>>;
  /**
   * When set, REQUEST/HTTP events must arrive on `<tenant>.<hostBaseDomain>`: `foobar.example.com`
   * serves tenant `foobar` only.
   */
  readonly hostBaseDomain?: string;
  /** `METHOD /path` routes a token without a tenant may reach (path parameters as `{name}`). */
  readonly tenantlessRoutes?: readonly string[];
}

export interface Member {
  readonly kind: 'member';
  readonly tenantId: string;
  readonly userId: string;
  readonly role: string;
  readonly groups: readonly string[];
}
export interface Tenantless {
  readonly kind: 'tenantless';
  readonly userId: string;
  readonly groups: readonly string[];
}
export interface Denied {
  readonly kind: 'denied';
  readonly userId: string;
  readonly reason: DenyReason;
}
export type Principal = Member | Tenantless | Denied;

export interface TenantRules {
  readonly mode: TenantMode;
  readonly tenantlessRoutes: readonly string[];
  /** Decide who the token speaks for on this request. */
  resolve(token: VerifiedIdToken, request: { route: string; host: string | undefined }): Principal;
  /** Whether `METHOD /path` is one of the tenantless routes. */
  isTenantlessRoute(route: string): boolean;
}

const ROUTE_PATTERN = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) \/[^\s]*$/;

const compileRoute = (route: string): RegExp => {
  const [method, path = ''] = route.split(' ');
  const segments = path
    .split('/')
    .map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const methodPart = method === 'ANY' ? '[A-Z]+' : method;
  return new RegExp(`^${methodPart} ${segments.join('/')}/?$`);
};

const groupsOf = (payload: Readonly<Record<string, unknown>>): readonly string[] => {
  const groups = payload['cognito:groups'];
  return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [];
};

/**
 * Build the tenant rules once (at init). Options are validated here, never per request.
 * @throws AuthorizerConfigError listing every problem.
 */
export function createTenantRules(options: TenantRulesOptions = {}): TenantRules {
  const issues: string[] = [];
  const mode = options.mode ?? 'pooled';
  const tenantClaim = options.tenantClaim ?? 'custom:tenant_id';
  const roleClaim = options.roleClaim ?? 'custom:role';
  const poolTenants = options.poolTenants ?? {};
  const tenantlessRoutes = options.tenantlessRoutes ?? [
    'POST /tenants',
    'GET /me/tenants',
    'POST /me/tenant',
  ];
  if (mode !== 'pooled' && mode !== 'siloed')
    issues.push(`mode must be pooled or siloed, got "${mode}"`);
  if (tenantClaim.trim() === '') issues.push('tenantClaim must not be empty');
  if (roleClaim.trim() === '') issues.push('roleClaim must not be empty');
  if (mode === 'siloed' && Object.keys(poolTenants).length === 0) {
    issues.push('siloed mode needs a tenant for every user pool');
  }
  for (const [pool, tenant] of Object.entries(poolTenants)) {
    if (!isTenantId(tenant))
      issues.push(`tenant of pool ${pool} is not a valid tenant id: "${tenant}"`);
  }
  for (const route of tenantlessRoutes) {
    if (!ROUTE_PATTERN.test(route))
      issues.push(`tenantless route must be "METHOD /path", got "${route}"`);
  }
  const baseDomain = options.hostBaseDomain
    ?.trim()
    .toLowerCase()
    .replace(/^\.|\.$/g, '');
  if (options.hostBaseDomain !== undefined && !baseDomain)
    issues.push('hostBaseDomain must not be empty');
  if (issues.length > 0) throw new AuthorizerConfigError(issues);

  const routeMatchers = tenantlessRoutes.map(compileRoute);
  const isTenantlessRoute = (route: string) => routeMatchers.some((m) => m.test(route));
  const hostSuffix = baseDomain ? `.${baseDomain}` : undefined;

  const hostServes = (host: string | undefined, tenantId: string): boolean => {
    if (hostSuffix === undefined) return true;
    // Fail closed: a TOKEN event carries no host, so with the host check on it cannot pass.
    if (host === undefined || !host.endsWith(hostSuffix)) return false;
    return host.slice(0, -hostSuffix.length) === tenantId.toLowerCase();
  };

  return Object.freeze({
    mode,
    tenantlessRoutes: Object.freeze([...tenantlessRoutes]),
    isTenantlessRoute,
    resolve(
      token: VerifiedIdToken,
      request: { route: string; host: string | undefined },
    ): Principal {
      const { payload, sub: userId } = token;
      const groups = groupsOf(payload);
      const claimed = payload[tenantClaim];
      const roleClaimValue = payload[roleClaim];
      const role = typeof roleClaimValue === 'string' ? roleClaimValue : '';
      const deny = (reason: DenyReason): Denied => ({ kind: 'denied', userId, reason });

      let tenantId: string;
      if (mode === 'siloed') {
        const poolTenant = poolTenants[token.userPoolId];
        if (poolTenant === undefined) return deny(DenyReason.unknownPool);
        // Defence in depth: a siloed token that also names a tenant must name its pool's tenant.
        if (claimed !== undefined && claimed !== poolTenant) return deny(DenyReason.tenantMismatch);
        tenantId = poolTenant;
      } else {
        // No tenant yet (a new user): the orchestration allows only the tenantless routes, with
        // no credentials. Deciding by route there keeps a cached policy right for every route.
        if (claimed === undefined || claimed === '') return { kind: 'tenantless', userId, groups };
        if (!isTenantId(claimed)) return deny(DenyReason.invalidTenantId);
        // The active tenant must be one the user pool itself says the user belongs to.
        if (!groups.includes(claimed)) return deny(DenyReason.tenantNotInGroups);
        tenantId = claimed;
      }
      if (!hostServes(request.host, tenantId)) return deny(DenyReason.hostMismatch);
      return { kind: 'member', tenantId, userId, role, groups };
    },
  });
}
