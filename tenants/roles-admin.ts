/**
 * Role administration (actions `roles:*`). Roles live in the tenant's control partition, which
 * tenant-scoped credentials cannot write, so this service writes with the function's own role
 * (`client`); the tenant always comes from the verified authorizer context.
 *
 * Every write is validated by the policy engine first (`PolicyValidationError`, one issue per field)
 * and runs as a guarded write: the caller's permission and the write's own condition (absent for
 * create; at the expected version for update and delete; no member still assigned for delete) commit
 * together or not at all. Only `admin` is unbounded: anyone else may create, rewrite or delete only a
 * role whose every permission they hold — before and after an update (rights.ts) — with their own
 * role pinned at the version that decision read. Unlike `RolesStore`, an update changes only the
 * document fields, so the role's member count (`assigned`, kept by membership writes) survives it.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TenantContext } from '../authorizer/index.js';
import {
  BuiltInRoleId,
  compileRole,
  isReservedRoleId,
  type RoleDocument,
} from '../policy/index.js';
import {
  ConflictError,
  ReservedRoleError,
  RoleNotFoundError,
  TenantsConfigError,
  WriteConditionError,
} from './errors.js';
import { createTenantGuardedWriter, type TransactItem } from './guarded-write.js';
import { controlPk, ROLE_SK_PREFIX, roleSk } from './keys.js';
import { queryAll, tableOptionIssues } from './query-all.js';
import { assertHolds, isAdmin, readStoredRole, type StoredRole } from './rights.js';
import type { RoleAuthorizer } from './role-authorizer.js';
import { roleItem } from './roles-store.js';

/** A role as `GET /roles` shows it. */
export interface RoleView extends RoleDocument {
  /** Members holding the role. */
  readonly assigned: number;
}

/** A role as a client sends it: unvalidated, every problem is reported by field (`PolicyValidationError`). */
export interface RoleInput {
  readonly roleId?: unknown;
  readonly name?: unknown;
  readonly allow?: unknown;
  readonly deny?: unknown;
  readonly version?: unknown;
}

/** Options of {@link createRolesAdmin}. */
export interface RolesAdminOptions {
  /** The function's own role: it may write the control partitions (tenant credentials may not). */
  readonly client: DynamoDBDocumentClient;
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
  /** For reads (`roles:list`). */
  readonly roles: RoleAuthorizer;
}

/** The `/roles` API of a tenant: every call checked against the caller's role (`roles:*`). */
export interface RolesAdmin {
  list(ctx: TenantContext): Promise<RoleView[]>;
  /** @throws PolicyValidationError, ReservedRoleError, ConflictError `already-exists`. */
  create(ctx: TenantContext, input: RoleInput): Promise<RoleDocument>;
  /** @throws PolicyValidationError, ReservedRoleError, RoleNotFoundError, ConflictError `stale-version`. */
  update(ctx: TenantContext, roleId: string, input: RoleInput): Promise<RoleDocument>;
  /** @throws ReservedRoleError, RoleNotFoundError, ConflictError `stale-version` or `role-in-use`. */
  remove(ctx: TenantContext, roleId: string, version: unknown): Promise<void>;
}

const num = (v: AttributeValue | undefined) => (v?.N === undefined ? undefined : Number(v.N));

/** @throws TenantsConfigError listing every invalid option. */
export function createRolesAdmin(options: RolesAdminOptions): RolesAdmin {
  const issues: string[] = [];
  tableOptionIssues(options, issues);
  if (typeof options?.roles?.enforce !== 'function') issues.push('roles must be a RoleAuthorizer');
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { client, tableName, roles } = options;

  const guarded = createTenantGuardedWriter({ tableName, clientFor: () => client });
  const write = (
    ctx: TenantContext,
    action: string,
    item: TransactItem,
    actor: StoredRole | undefined,
  ) => guarded(ctx, action, [item], actor ? { roleVersion: actor.version } : undefined);
  /** The caller's role as stored now; none is needed (nor pinned) for an admin. */
  const actorRole = (ctx: TenantContext, action: string) =>
    isAdmin(ctx)
      ? Promise.resolve(undefined)
      : readStoredRole(client, tableName, ctx.tenantId, ctx.role, action);
  const stored = (ctx: TenantContext, roleId: string, action: string) =>
    readStoredRole(client, tableName, ctx.tenantId, roleId, action);

  /** A failed versioned write: gone (404) or at another version (409), from the item as it was. */
  const versionFailure = (
    error: WriteConditionError,
    tenantId: string,
    roleId: string,
    expected: number,
  ) => {
    const item = error.failed[0]?.item as Record<string, AttributeValue> | undefined;
    if (!item) return new RoleNotFoundError(tenantId, roleId, { cause: error });
    const version = num(item.version);
    if (version !== expected) {
      return new ConflictError(
        'stale-version',
        `role ${roleId} is at version ${version}, not ${expected}`,
        { cause: error },
      );
    }
    return new ConflictError(
      'role-in-use',
      `role ${roleId} is still assigned to ${num(item.assigned)} member(s)`,
      { cause: error },
    );
  };

  return {
    async list(ctx) {
      await roles.enforce(ctx, 'roles:list');
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :role)',
        ExpressionAttributeValues: { ':pk': controlPk(ctx.tenantId), ':role': ROLE_SK_PREFIX },
      });
      return items.map((item) => ({
        tenantId: String(item.tenantId),
        roleId: String(item.roleId),
        name: String(item.name),
        allow: (item.allow as string[]) ?? [],
        deny: (item.deny as string[]) ?? [],
        version: Number(item.version),
        assigned: Number(item.assigned ?? 0),
      }));
    },

    async create(ctx, input) {
      const doc = {
        tenantId: ctx.tenantId,
        roleId: input.roleId,
        name: input.name,
        allow: input.allow,
        deny: input.deny ?? [],
        version: 1,
      };
      const compiled = compileRole(doc);
      const item = roleItem(compiled);
      if (isReservedRoleId(compiled.roleId)) throw new ReservedRoleError(compiled.roleId, 'create');
      const actor = await actorRole(ctx, 'roles:create');
      assertHolds(ctx, 'roles:create', actor, { roleId: compiled.roleId, compiled });
      try {
        await write(
          ctx,
          'roles:create',
          {
            Put: {
              TableName: tableName,
              Item: { ...item, assigned: 0 },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          actor,
        );
      } catch (error) {
        if (error instanceof WriteConditionError) {
          throw new ConflictError('already-exists', `role ${String(item.roleId)} already exists`, {
            cause: error,
          });
        }
        throw error;
      }
      return toDoc(item);
    },

    async update(ctx, roleId, input) {
      if (roleId === BuiltInRoleId.admin) throw new ReservedRoleError(roleId, 'update');
      const expected = input.version;
      // The stored version starts at 1: anything else is refused with the other fields' problems
      // (compileRole reports `version`), never sent as a condition that can only fail.
      const valid = typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 1;
      const next = compileRole({
        tenantId: ctx.tenantId,
        roleId,
        name: input.name,
        allow: input.allow,
        deny: input.deny ?? [],
        version: valid ? (expected as number) + 1 : -1,
      });
      const version = next.version - 1;
      const [actor, current] = await Promise.all([
        actorRole(ctx, 'roles:update'),
        stored(ctx, roleId, 'roles:update'),
      ]);
      if (!current) throw new RoleNotFoundError(ctx.tenantId, roleId);
      if (current.version !== version)
        throw new ConflictError(
          'stale-version',
          `role ${roleId} is at version ${current.version}, not ${version}`,
        );
      // Before and after: rewriting a role one does not hold entirely is as much beyond one's rights as
      // widening one. The write's own condition pins this version.
      assertHolds(ctx, 'roles:update', actor, { roleId, compiled: current.compiled });
      assertHolds(ctx, 'roles:update', actor, { roleId, compiled: next });
      try {
        await write(
          ctx,
          'roles:update',
          {
            Update: {
              TableName: tableName,
              Key: { PK: controlPk(ctx.tenantId), SK: roleSk(roleId) },
              UpdateExpression:
                'SET #name = :name, #allow = :allow, #deny = :deny, version = :next',
              ConditionExpression: 'attribute_exists(PK) AND version = :expected',
              ExpressionAttributeNames: { '#name': 'name', '#allow': 'allow', '#deny': 'deny' },
              ExpressionAttributeValues: {
                ':name': next.name,
                ':allow': [...next.allow],
                ':deny': [...next.deny],
                ':next': next.version,
                ':expected': version,
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          actor,
        );
      } catch (error) {
        if (error instanceof WriteConditionError)
          throw versionFailure(error, ctx.tenantId, roleId, version);
        throw error;
      }
      return {
        tenantId: ctx.tenantId,
        roleId,
        name: next.name,
        allow: [...next.allow],
        deny: [...next.deny],
        version: next.version,
      };
    },

    async remove(ctx, roleId, version) {
      if (isReservedRoleId(roleId)) throw new ReservedRoleError(roleId, 'delete');
      // Validated like any role field, so a bad version is a 400 naming `version`.
      compileRole({ tenantId: ctx.tenantId, roleId, name: roleId, allow: [], version });
      const [actor, current] = await Promise.all([
        actorRole(ctx, 'roles:delete'),
        stored(ctx, roleId, 'roles:delete'),
      ]);
      assertHolds(ctx, 'roles:delete', actor, { roleId, compiled: current?.compiled });
      try {
        await write(
          ctx,
          'roles:delete',
          {
            Delete: {
              TableName: tableName,
              Key: { PK: controlPk(ctx.tenantId), SK: roleSk(roleId) },
              ConditionExpression:
                'attribute_exists(PK) AND version = :expected AND (attribute_not_exists(assigned) OR assigned = :zero)',
              ExpressionAttributeValues: { ':expected': version, ':zero': 0 },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          actor,
        );
      } catch (error) {
        if (error instanceof WriteConditionError)
          throw versionFailure(error, ctx.tenantId, roleId, version as number);
        throw error;
      }
    },
  };
}

const toDoc = (item: Record<string, unknown>): RoleDocument => ({
  tenantId: String(item.tenantId),
  roleId: String(item.roleId),
  name: String(item.name),
  allow: item.allow as string[],
  deny: item.deny as string[],
  version: Number(item.version),
});
