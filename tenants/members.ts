/**
 * Tenant membership administration (actions `members:*`). Table writes use the CALLER's tenant-scoped
 * credentials and go through the guarded transaction, so the permission check, the membership item
 * and the role assignment counts commit together or not at all. Cognito calls (group, attributes) use
 * the function's own role and come after the table write: the table is what the authorizer's
 * membership check reads, so a removal takes effect (within the check's 60 s cache) even if a Cognito
 * call then fails, and repeating the request completes it.
 *
 * Each role item counts its members (`assigned`). That makes two rules race-free: a role still
 * assigned cannot be deleted, and the `admin` count cannot drop below one — the last admin can neither
 * leave nor be demoted.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type TenantContext, tenantDynamoClient } from '../authorizer/index.js';
import { BuiltInRoleId, ROLE_ID_PATTERN } from '../policy/index.js';
import type { UserDirectory } from './directory.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  RoleNotFoundError,
  TenantsConfigError,
  WriteConditionError,
} from './errors.js';
import { createTenantGuardedWriter, type TransactItem } from './guarded-write.js';
import { MEMBER_SK_PREFIX, memberSk, roleSk, TENANT_SK, tenantPk } from './keys.js';
import { queryAll, tableOptionIssues } from './query-all.js';
import type { RoleAuthorizer } from './role-authorizer.js';
import { membershipItem } from './tenant-service.js';

/** A member of a tenant: a user and their role in it. */
export interface Member {
  readonly userId: string;
  readonly email?: string;
  readonly role: string;
  /** ISO 8601. */
  readonly joinedAt?: string;
}

/** Options of {@link createMembersService}. */
export interface MembersServiceOptions {
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
  /** The user pool: groups and active-tenant attributes follow membership changes. */
  readonly directory: UserDirectory;
  /** For reads (`members:list`). */
  readonly roles: RoleAuthorizer;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Default: `tenantDynamoClient(ctx)`, the caller's tenant-scoped credentials. */
  readonly clientFor?: (ctx: TenantContext) => DynamoDBDocumentClient;
}

/** A tenant's members: list, invite, change role, remove (each checked against the caller's role). */
export interface MembersService {
  list(ctx: TenantContext): Promise<Member[]>;
  /**
   * Add an existing user (by email) with a role. Repeating the same invitation completes it.
   * @throws NotFoundError (no such user), RoleNotFoundError, ConflictError `already-member` (with
   * another role), PermissionDeniedError.
   */
  invite(ctx: TenantContext, input: { email: unknown; role: unknown }): Promise<Member>;
  /** @throws NotFoundError, RoleNotFoundError, ConflictError `last-admin` or `stale-version`. */
  changeRole(ctx: TenantContext, userId: string, input: { role: unknown }): Promise<Member>;
  /** @throws NotFoundError, ConflictError `last-admin`, PermissionDeniedError. */
  remove(ctx: TenantContext, userId: string): Promise<void>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const toMember = (item: Record<string, unknown>): Member => ({
  userId: String(item.userId),
  role: String(item.role),
  ...(typeof item.email === 'string' ? { email: item.email } : {}),
  ...(typeof item.joinedAt === 'string' ? { joinedAt: item.joinedAt } : {}),
});

/**
 * Only an admin makes admins. `members:invite` / `members:update` may be delegated to a custom role;
 * without this rule its holders could hand out (or take) `admin` and escalate past what they hold.
 */
function assertMayAssign(ctx: TenantContext, role: string) {
  if (role === BuiltInRoleId.admin && ctx.role !== BuiltInRoleId.admin) {
    throw new PermissionDeniedError('members:assign-admin', 'no-match');
  }
}

/** @throws TenantsConfigError listing every invalid option. */
export function createMembersService(options: MembersServiceOptions): MembersService {
  const issues: string[] = [];
  tableOptionIssues(options, issues, false);
  if (typeof options?.directory?.addToGroup !== 'function')
    issues.push('directory must be a UserDirectory');
  if (typeof options?.roles?.enforce !== 'function') issues.push('roles must be a RoleAuthorizer');
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { tableName, directory, roles } = options;
  const now = options.now ?? Date.now;
  const clientFor = options.clientFor ?? ((ctx: TenantContext) => tenantDynamoClient(ctx));

  const getItem = async (ctx: TenantContext, SK: string) =>
    (
      await clientFor(ctx).send(
        new GetCommand({
          TableName: tableName,
          Key: { PK: tenantPk(ctx.tenantId), SK },
          ConsistentRead: true,
        }),
      )
    ).Item;

  const write = createTenantGuardedWriter({ tableName, clientFor });

  /** Count one more (or one fewer) member on a role; the role must exist. */
  const countOn = (ctx: TenantContext, roleId: string, delta: 1 | -1): TransactItem => ({
    Update: {
      TableName: tableName,
      Key: { PK: tenantPk(ctx.tenantId), SK: roleSk(roleId) },
      UpdateExpression: 'SET assigned = if_not_exists(assigned, :zero) + :delta',
      // Taking the last admin away would leave a tenant nobody can administer.
      ConditionExpression:
        delta < 0 && roleId === BuiltInRoleId.admin
          ? 'attribute_exists(PK) AND assigned > :one'
          : 'attribute_exists(PK)',
      ExpressionAttributeValues: {
        ':zero': 0,
        ':delta': delta,
        ...(delta < 0 && roleId === BuiltInRoleId.admin ? { ':one': 1 } : {}),
      },
    },
  });

  const roleInput = (role: unknown): string => {
    if (typeof role !== 'string' || !ROLE_ID_PATTERN.test(role)) {
      throw new InvalidInputError([{ field: 'role', message: `must match ${ROLE_ID_PATTERN}` }]);
    }
    return role;
  };

  return {
    async list(ctx) {
      await roles.enforce(ctx, 'members:list');
      const items = await queryAll(clientFor(ctx), {
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :m)',
        ExpressionAttributeValues: { ':pk': tenantPk(ctx.tenantId), ':m': MEMBER_SK_PREFIX },
      });
      return items.map(toMember);
    },

    async invite(ctx, input) {
      const problems: { field: string; message: string }[] = [];
      if (typeof input.email !== 'string' || !EMAIL.test(input.email))
        problems.push({ field: 'email', message: 'must be an email address' });
      if (typeof input.role !== 'string' || !ROLE_ID_PATTERN.test(input.role))
        problems.push({ field: 'role', message: `must match ${ROLE_ID_PATTERN}` });
      if (problems.length > 0) throw new InvalidInputError(problems);
      const email = (input.email as string).toLowerCase();
      const role = input.role as string;

      assertMayAssign(ctx, role);
      const user = await directory.findUser(email);
      if (!user) throw new NotFoundError('user', `no user with email ${email}`);
      const tenant = await getItem(ctx, TENANT_SK);
      const member = membershipItem({
        tenantId: ctx.tenantId,
        userId: user.userId,
        role,
        tenantName: String(tenant?.name ?? ctx.tenantId),
        email,
        joinedAt: new Date(now()).toISOString(),
      });
      try {
        await write(ctx, 'members:invite', [
          {
            Put: {
              TableName: tableName,
              Item: member,
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          countOn(ctx, role, 1),
        ]);
      } catch (error) {
        if (!(error instanceof WriteConditionError)) throw error;
        if (error.has(0)) {
          const existing = await getItem(ctx, memberSk(user.userId));
          if (existing?.role !== role) {
            throw new ConflictError(
              'already-member',
              `${email} is already a member with role ${String(existing?.role)}`,
              { cause: error },
            );
          }
          // The same invitation again: the membership is there; make sure the group is too.
        } else {
          throw new RoleNotFoundError(ctx.tenantId, role, { cause: error });
        }
      }
      await directory.addToGroup(user.userId, ctx.tenantId);
      // A user with no active tenant gets this one, so their next sign-in lands in it.
      if (!user.activeTenantId) await directory.setActiveTenant(user.userId, ctx.tenantId, role);
      return toMember(member);
    },

    async changeRole(ctx, userId, input) {
      const role = roleInput(input.role);
      const current = await getItem(ctx, memberSk(userId));
      if (!current) throw new NotFoundError('member', `no member ${userId} in this tenant`);
      const from = String(current.role);
      assertMayAssign(ctx, role);
      if (from === role) {
        // Nothing to write, but the answer (and the attribute fix-up below) is still for the allowed.
        await roles.enforce(ctx, 'members:update');
      } else {
        try {
          await write(ctx, 'members:update', [
            {
              Update: {
                TableName: tableName,
                Key: { PK: tenantPk(ctx.tenantId), SK: memberSk(userId) },
                UpdateExpression: 'SET #role = :to',
                // Someone else changed or removed them since we read: do not guess, report.
                ConditionExpression: '#role = :from',
                ExpressionAttributeNames: { '#role': 'role' },
                ExpressionAttributeValues: { ':to': role, ':from': from },
              },
            },
            countOn(ctx, from, -1),
            countOn(ctx, role, 1),
          ]);
        } catch (error) {
          if (!(error instanceof WriteConditionError)) throw error;
          if (error.has(0))
            throw new ConflictError('stale-version', 'the membership changed meanwhile; retry', {
              cause: error,
            });
          if (error.has(1))
            throw new ConflictError('last-admin', 'a tenant must keep at least one admin', {
              cause: error,
            });
          throw new RoleNotFoundError(ctx.tenantId, role, { cause: error });
        }
      }
      // Their next tokens carry the new role if this is their active tenant; until then the
      // membership check refuses their old-role token (within its cache bound).
      const user = await directory.findUser(userId);
      if (user?.activeTenantId === ctx.tenantId && user.role !== role) {
        await directory.setActiveTenant(userId, ctx.tenantId, role);
      }
      return toMember({ ...current, role });
    },

    async remove(ctx, userId) {
      const current = await getItem(ctx, memberSk(userId));
      if (current) {
        try {
          await write(ctx, 'members:remove', [
            {
              Delete: {
                TableName: tableName,
                Key: { PK: tenantPk(ctx.tenantId), SK: memberSk(userId) },
                ConditionExpression: '#role = :from',
                ExpressionAttributeNames: { '#role': 'role' },
                ExpressionAttributeValues: { ':from': current.role },
              },
            },
            countOn(ctx, String(current.role), -1),
          ]);
        } catch (error) {
          if (!(error instanceof WriteConditionError)) throw error;
          if (error.has(0))
            throw new ConflictError('stale-version', 'the membership changed meanwhile; retry', {
              cause: error,
            });
          throw new ConflictError('last-admin', 'a tenant must keep at least one admin', {
            cause: error,
          });
        }
      } else {
        // Nothing in the table: a retry after a Cognito failure, or a stranger. Only someone allowed
        // to remove members may trigger the cleanup below.
        await roles.enforce(ctx, 'members:remove');
      }
      // Idempotent Cognito cleanup: out of the group, and tenant-less if this was their active tenant.
      const user = await directory.findUser(userId);
      if (user) {
        await directory.removeFromGroup(userId, ctx.tenantId);
        if (user.activeTenantId === ctx.tenantId) await directory.clearActiveTenant(userId);
      }
      if (!current) throw new NotFoundError('member', `no member ${userId} in this tenant`);
    },
  };
}
