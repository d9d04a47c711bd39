/**
 * `authorize(ctx, action)` for protected functions: loads the caller's role with the caller's own
 * tenant-scoped client (IAM confines it to the tenant's keys), compiles it once and keeps it for a
 * short TTL (default 30 s), so a warm function pays one GetItem per role per TTL and ~100 ns per check.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type TenantContext, tenantDynamoClient } from '../authorizer/index.js';
import { type CompiledRole, compileRole, type Decision, evaluate } from '../policy/index.js';
import { PermissionDeniedError } from './errors.js';
import { roleSk, tenantPk } from './keys.js';
import { createTtlCache } from './ttl-cache.js';

export interface RoleAuthorizerOptions {
  readonly tableName: string;
  /** Default 30 000 ms: how stale a role edit may be seen here (guarded writes are never stale). */
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** Default: `tenantDynamoClient(ctx)`, signed with the caller's tenant-scoped credentials. */
  readonly clientFor?: (ctx: TenantContext) => DynamoDBDocumentClient;
}

export interface RoleAuthorizer {
  authorize(ctx: TenantContext, action: string): Promise<Decision>;
  /** @throws PermissionDeniedError naming the action and the decision reason. */
  enforce(ctx: TenantContext, action: string): Promise<void>;
}

export function createRoleAuthorizer(options: RoleAuthorizerOptions): RoleAuthorizer {
  const ttl = options.ttlMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 1000;
  const now = options.now ?? Date.now;
  const clientFor = options.clientFor ?? ((ctx: TenantContext) => tenantDynamoClient(ctx));
  const cache = createTtlCache<CompiledRole | undefined>({ ttlMs: ttl, maxEntries, now });

  const load = async (ctx: TenantContext): Promise<CompiledRole | undefined> => {
    if (ctx.role === '') return undefined;
    const { Item } = await clientFor(ctx).send(
      new GetCommand({
        TableName: options.tableName,
        Key: { PK: tenantPk(ctx.tenantId), SK: roleSk(ctx.role) },
      }),
    );
    if (!Item) return undefined;
    return compileRole({
      tenantId: Item.tenantId,
      roleId: Item.roleId,
      name: Item.name,
      allow: Item.allow ?? [],
      deny: Item.deny ?? [],
      version: Item.version,
    });
  };

  const roleOf = (ctx: TenantContext) =>
    cache.get(JSON.stringify([ctx.tenantId, ctx.role]), () => load(ctx));

  return {
    async authorize(ctx, action) {
      return evaluate(await roleOf(ctx), action);
    },
    async enforce(ctx, action) {
      const decision = evaluate(await roleOf(ctx), action);
      if (decision.effect !== 'allow') throw new PermissionDeniedError(action, decision.reason);
    },
  };
}
