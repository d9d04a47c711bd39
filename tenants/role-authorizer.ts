/**
 * `authorize(ctx, action)` for protected functions: loads the caller's role with the caller's own
 * tenant-scoped client (IAM confines it to the tenant's keys), compiles it once and keeps it for a
 * short TTL (default 30 s), so a warm function pays one GetItem per role per TTL and ~100 ns per check.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type TenantContext, tenantDynamoClient } from '../authorizer/index.js';
import { type CompiledRole, type Decision, evaluate, ROLE_ID_PATTERN } from '../policy/index.js';
import { PermissionDeniedError, TenantsConfigError } from './errors.js';
import { controlPk, roleSk } from './keys.js';
import { compileRoleItem } from './roles-store.js';
import { createTtlCache } from './ttl-cache.js';

/** Options of {@link createRoleAuthorizer}. */
export interface RoleAuthorizerOptions {
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
  /**
   * Default 30 000 ms: how stale a role edit (or a just-created role) may be seen here. Guarded writes
   * are never stale: their check runs inside the transaction.
   */
  readonly ttlMs?: number;
  /** Cache bound, in (tenant, role) pairs. Default 1 000. */
  readonly maxEntries?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Default: `tenantDynamoClient(ctx)`, signed with the caller's tenant-scoped credentials. */
  readonly clientFor?: (ctx: TenantContext) => DynamoDBDocumentClient;
}

/** Decides whether the caller's role permits an action (roles loaded with the caller's credentials, cached). */
export interface RoleAuthorizer {
  /**
   * The caller's decision for `action`; a missing role is `unknown-role`.
   * @throws PolicyValidationError for a malformed action (a programming error) or a stored role that
   * fails validation (corrupt data: fail closed, loudly); DynamoDB errors as they are.
   */
  authorize(ctx: TenantContext, action: string): Promise<Decision>;
  /** Like `authorize`, but a deny throws `PermissionDeniedError` naming the action and the reason. */
  enforce(ctx: TenantContext, action: string): Promise<void>;
}

/** @throws TenantsConfigError listing every invalid option. */
export function createRoleAuthorizer(options: RoleAuthorizerOptions): RoleAuthorizer {
  const ttl = options?.ttlMs ?? 30_000;
  const maxEntries = options?.maxEntries ?? 1000;
  const now = options?.now ?? Date.now;
  const clientFor = options?.clientFor ?? ((ctx: TenantContext) => tenantDynamoClient(ctx));
  const issues: string[] = [];
  if (typeof options?.tableName !== 'string' || options.tableName === '')
    issues.push('tableName must be a non-empty string');
  if (!Number.isSafeInteger(ttl) || ttl < 0)
    issues.push(`ttlMs must be a non-negative integer, got ${ttl}`);
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
    issues.push(`maxEntries must be a positive integer, got ${maxEntries}`);
  if (typeof now !== 'function') issues.push('now must be a function returning milliseconds');
  if (typeof clientFor !== 'function') issues.push('clientFor must be a function');
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { tableName } = options;

  const cache = createTtlCache<CompiledRole | undefined>({ ttlMs: ttl, maxEntries, now });

  const load = async (ctx: TenantContext): Promise<CompiledRole | undefined> => {
    // No stored role can have another id: skip the read (an empty claim is the common case).
    if (!ROLE_ID_PATTERN.test(ctx.role)) return undefined;
    const { Item } = await clientFor(ctx).send(
      new GetCommand({
        TableName: tableName,
        Key: { PK: controlPk(ctx.tenantId), SK: roleSk(ctx.role) },
      }),
    );
    if (!Item) return undefined;
    return compileRoleItem(Item);
  };

  const roleOf = (ctx: TenantContext) =>
    // JSON keeps the key unambiguous whatever characters the values hold.
    cache.get(JSON.stringify([ctx.tenantId, ctx.role]), () => load(ctx));

  return {
    async authorize(ctx, action) {
      return evaluate(await roleOf(ctx), action);
    },
    async enforce(ctx, action) {
      const decision = evaluate(await roleOf(ctx), action);
      if (decision.reason !== 'allowed')
        throw new PermissionDeniedError(action, decision.reason, { matched: decision.matched });
    },
  };
}
