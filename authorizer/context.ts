/**
 * The authorizer context, encoded and decoded in one place. API Gateway passes context values to the
 * protected function as strings (REST: `requestContext.authorizer`; HTTP API:
 * `requestContext.authorizer.lambda`), so every value here is a string and round-trips exactly.
 */
import { TenantContextError } from './errors.js';
import type { AwsCredentials, TenantContext } from './types.js';

/** Context keys. `scope` tells a tenant context from a tenant-less one (no credentials). */
export const ContextKey = {
  scope: 'scope',
  tenantId: 'tenantId',
  userId: 'userId',
  role: 'role',
  groups: 'groups',
  identityId: 'identityId',
  accessKeyId: 'accessKeyId',
  secretAccessKey: 'secretAccessKey',
  sessionToken: 'sessionToken',
  credentialsExpiration: 'credentialsExpiration',
  denyReason: 'denyReason',
} as const;

/** A caller with no tenant yet: what the tenant-less control-plane routes receive. */
export interface TenantlessContext {
  readonly userId: string;
  readonly groups: readonly string[];
}

/** What `readCallerContext` returns: a tenant caller with credentials, or a tenant-less one. */
export type CallerContext =
  | ({ readonly scope: 'tenant' } & TenantContext)
  | ({ readonly scope: 'tenantless' } & TenantlessContext);

/**
 * Groups are comma-joined; each name is percent-encoded first, so a group name holding a comma (Cognito
 * allows punctuation) still round-trips. Plain names (letters, digits, `-`, `_`) read unchanged.
 */
const encodeGroups = (groups: readonly string[]): string =>
  groups.map((g) => encodeURIComponent(g)).join(',');
const decodeGroups = (value: string): string[] =>
  value === '' ? [] : value.split(',').map((g) => decodeURIComponent(g));

/** Encode a tenant context for the Allow response. */
export function encodeTenantContext(ctx: TenantContext): Record<string, string> {
  return {
    [ContextKey.scope]: 'tenant',
    [ContextKey.tenantId]: ctx.tenantId,
    [ContextKey.userId]: ctx.userId,
    [ContextKey.role]: ctx.role,
    [ContextKey.groups]: encodeGroups(ctx.groups),
    [ContextKey.identityId]: ctx.identityId,
    [ContextKey.accessKeyId]: ctx.credentials.accessKeyId,
    [ContextKey.secretAccessKey]: ctx.credentials.secretAccessKey,
    [ContextKey.sessionToken]: ctx.credentials.sessionToken,
    [ContextKey.credentialsExpiration]: ctx.credentials.expiration.toISOString(),
  };
}

/** Encode a tenant-less context (no credentials: there is no tenant to scope them to). */
export function encodeTenantlessContext(ctx: TenantlessContext): Record<string, string> {
  return {
    [ContextKey.scope]: 'tenantless',
    [ContextKey.userId]: ctx.userId,
    [ContextKey.groups]: encodeGroups(ctx.groups),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Find the authorizer context in a REST (v1) or HTTP API (v1 or v2) proxy event. */
function authorizerContextOf(event: unknown): Record<string, unknown> {
  const requestContext = isRecord(event) ? event.requestContext : undefined;
  const authorizer = isRecord(requestContext) ? requestContext.authorizer : undefined;
  if (!isRecord(authorizer)) throw new TenantContextError('no authorizer context in the event');
  return isRecord(authorizer.lambda) ? authorizer.lambda : authorizer;
}

function readString(ctx: Record<string, unknown>, key: string, allowEmpty = false): string {
  const value = ctx[key];
  // HTTP API may keep non-string JSON scalars; the authorizer only ever sends strings.
  if (typeof value !== 'string' || (!allowEmpty && value === '')) {
    throw new TenantContextError(`authorizer context lacks "${key}"`);
  }
  return value;
}

/**
 * Read the caller from a protected function's event, tenant or tenant-less.
 * @throws TenantContextError when the event carries no, or a malformed, authorizer context.
 */
export function readCallerContext(event: unknown): CallerContext {
  const ctx = authorizerContextOf(event);
  const scope = readString(ctx, ContextKey.scope);
  const userId = readString(ctx, ContextKey.userId);
  const groups = Object.freeze(decodeGroups(readString(ctx, ContextKey.groups, true)));
  if (scope === 'tenantless') return Object.freeze({ scope, userId, groups });
  if (scope !== 'tenant') throw new TenantContextError(`unknown context scope "${scope}"`);
  const expiration = new Date(readString(ctx, ContextKey.credentialsExpiration));
  if (Number.isNaN(expiration.getTime())) {
    throw new TenantContextError('authorizer context has an invalid credentialsExpiration');
  }
  const credentials: AwsCredentials = Object.freeze({
    accessKeyId: readString(ctx, ContextKey.accessKeyId),
    secretAccessKey: readString(ctx, ContextKey.secretAccessKey),
    sessionToken: readString(ctx, ContextKey.sessionToken),
    expiration,
  });
  return Object.freeze({
    scope,
    tenantId: readString(ctx, ContextKey.tenantId),
    userId,
    role: readString(ctx, ContextKey.role, true),
    groups,
    identityId: readString(ctx, ContextKey.identityId),
    credentials,
  });
}

/**
 * Read the caller's tenant, user, role, groups and tenant-scoped credentials in a protected function.
 * @throws TenantContextError when the context is missing, malformed or tenant-less.
 */
export function readTenantContext(event: unknown): TenantContext {
  const caller = readCallerContext(event);
  if (caller.scope !== 'tenant') throw new TenantContextError('the caller has no active tenant');
  const { scope: _scope, ...tenant } = caller;
  return Object.freeze(tenant);
}
