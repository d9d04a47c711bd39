/**
 * Tenant membership administration (actions `members:*`). Memberships live in the tenant's control
 * partition, which tenant-scoped credentials cannot write, so this service writes with the function's
 * own role (`client`); the tenant always comes from the verified authorizer context.
 *
 * Every write is a guarded transaction: the caller's permission, the membership item and the role
 * assignment counts commit together or not at all. Only `admin` is unbounded: anyone else may assign,
 * change or remove only roles they hold entirely (rights.ts), never an admin, and not their own role;
 * the versions of the roles that decision read are pinned in the same transaction.
 *
 * Cognito calls (group, attributes) use the function's own role and come after the table write: the
 * table is what the authorizer's membership check reads, so a removal takes effect (within the check's
 * cache) even if a Cognito call then fails. A removal leaves a marker (`REMOVED#<sub>`) until its
 * Cognito cleanup is done, so repeating the request completes it; without a membership or a marker a
 * request is a 404 and nothing reaches Cognito.
 *
 * Each role item counts its members (`assigned`). That makes two rules race-free: a role still
 * assigned cannot be deleted, and the `admin` count cannot drop below one.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantContext } from '../authorizer/index.js';
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
import { controlPk, MEMBER_SK_PREFIX, memberSk, removalSk, roleSk, TENANT_SK } from './keys.js';
import { isEmail, isUserId } from './limits.js';
import { queryAll, tableOptionIssues } from './query-all.js';
import { assertHolds, isAdmin, readStoredRole, type StoredRole } from './rights.js';
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
  /** The function's own role: it may write the control partitions (tenant credentials may not). */
  readonly client: DynamoDBDocumentClient;
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
  /** The user pool: groups and active-tenant attributes follow membership changes. */
  readonly directory: UserDirectory;
  /** For reads (`members:list`). */
  readonly roles: RoleAuthorizer;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** A tenant's members: list, invite, change role, remove (each checked against the caller's role). */
export interface MembersService {
  list(ctx: TenantContext): Promise<Member[]>;
  /**
   * Add an existing user (by email) with a role. Repeating the same invitation completes it.
   * @throws NotFoundError (no such user), RoleNotFoundError, ConflictError `already-member` (with
   * another role), PermissionDeniedError (incl. `admin-only`, RightsExceededError).
   */
  invite(ctx: TenantContext, input: { email: unknown; role: unknown }): Promise<Member>;
  /**
   * @throws NotFoundError (not a member's `sub` in this tenant), RoleNotFoundError, ConflictError
   * `last-admin` or `stale-version`, PermissionDeniedError (incl. `own-role`, `admin-only`).
   */
  changeRole(ctx: TenantContext, userId: string, input: { role: unknown }): Promise<Member>;
  /** @throws NotFoundError, ConflictError `last-admin`, PermissionDeniedError. */
  remove(ctx: TenantContext, userId: string): Promise<void>;
}

const toMember = (item: Record<string, unknown>): Member => ({
  userId: String(item.userId),
  role: String(item.role),
  ...(typeof item.email === 'string' ? { email: item.email } : {}),
  ...(typeof item.joinedAt === 'string' ? { joinedAt: item.joinedAt } : {}),
});

const notAMember = (userId: string) =>
  // Never echo a long or odd path segment back in full.
  new NotFoundError('member', `no member ${userId.slice(0, 64)} in this tenant`);

/** @throws TenantsConfigError listing every invalid option. */
export function createMembersService(options: MembersServiceOptions): MembersService {
  const issues: string[] = [];
  tableOptionIssues(options, issues);
  if (typeof options?.directory?.addToGroup !== 'function')
    issues.push('directory must be a UserDirectory');
  if (typeof options?.roles?.enforce !== 'function') issues.push('roles must be a RoleAuthorizer');
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { client, tableName, directory, roles } = options;
  const now = options.now ?? Date.now;

  const getItem = async (ctx: TenantContext, SK: string) =>
    (
      await client.send(
        new GetCommand({
          TableName: tableName,
          Key: { PK: controlPk(ctx.tenantId), SK },
          ConsistentRead: true,
        }),
      )
    ).Item;

  const write = createTenantGuardedWriter({ tableName, clientFor: () => client });
  const role = (ctx: TenantContext, roleId: string, action: string) =>
    readStoredRole(client, tableName, ctx.tenantId, roleId, action);
  /** The caller's role as stored now; none is needed (nor pinned) for an admin. */
  const actorRole = (ctx: TenantContext, action: string) =>
    isAdmin(ctx) ? Promise.resolve(undefined) : role(ctx, ctx.role, action);
  const pin = (actor: StoredRole | undefined) =>
    actor === undefined ? undefined : { roleVersion: actor.version };

  /**
   * Count one more (or one fewer) member on a role; the role must exist, at the version the decision
   * read when one was pinned, and the last admin must stay.
   */
  const countOn = (
    ctx: TenantContext,
    roleId: string,
    delta: 1 | -1,
    version?: number,
  ): TransactItem => {
    const lastAdmin = delta < 0 && roleId === BuiltInRoleId.admin;
    return {
      Update: {
        TableName: tableName,
        Key: { PK: controlPk(ctx.tenantId), SK: roleSk(roleId) },
        UpdateExpression: 'SET assigned = if_not_exists(assigned, :zero) + :delta',
        // Taking the last admin away would leave a tenant nobody can administer.
        ConditionExpression: [
          'attribute_exists(PK)',
          ...(lastAdmin ? ['assigned > :one'] : []),
          ...(version === undefined ? [] : ['version = :version']),
        ].join(' AND '),
        ExpressionAttributeValues: {
          ':zero': 0,
          ':delta': delta,
          ...(lastAdmin ? { ':one': 1 } : {}),
          ...(version === undefined ? {} : { ':version': version }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  };

  /** A removal's marker: kept until the Cognito cleanup is done, so a retry can complete it. */
  const marker = (ctx: TenantContext, userId: string): TransactItem => ({
    Put: {
      TableName: tableName,
      Item: {
        PK: controlPk(ctx.tenantId),
        SK: removalSk(userId),
        type: 'removal',
        userId,
        removedAt: new Date(now()).toISOString(),
      },
    },
  });
  const dropMarker = (ctx: TenantContext, userId: string): TransactItem => ({
    Delete: { TableName: tableName, Key: { PK: controlPk(ctx.tenantId), SK: removalSk(userId) } },
  });

  /** A failed count on a role: gone (404), at another version than decided on (409), or last admin. */
  const countFailure = (
    error: WriteConditionError,
    index: number,
    ctx: TenantContext,
    roleId: string,
    delta: 1 | -1,
  ) => {
    const item = error.failed.find((f) => f.index === index)?.item;
    if (!item) return new RoleNotFoundError(ctx.tenantId, roleId, { cause: error });
    if (delta < 0 && roleId === BuiltInRoleId.admin)
      return new ConflictError('last-admin', 'a tenant must keep at least one admin', {
        cause: error,
      });
    return new ConflictError('role-changed', `role ${roleId} changed meanwhile; retry`, {
      cause: error,
    });
  };

  const roleInput = (value: unknown): string => {
    if (typeof value !== 'string' || !ROLE_ID_PATTERN.test(value)) {
      throw new InvalidInputError([{ field: 'role', message: `must match ${ROLE_ID_PATTERN}` }]);
    }
    return value;
  };

  /** The member `userId` (a `sub`) of the caller's tenant; anything else is a 404 before any call. */
  const memberOf = async (ctx: TenantContext, userId: string) => {
    if (!isUserId(userId)) throw notAMember(userId);
    const current = await getItem(ctx, memberSk(userId));
    if (!current) throw notAMember(userId);
    return current;
  };

  /** Cognito cleanup after a removal, then the marker goes: idempotent, safe to repeat. */
  const cleanUp = async (ctx: TenantContext, userId: string) => {
    const user = await directory.findUser(userId);
    if (user) {
      await directory.removeFromGroup(userId, ctx.tenantId);
      if (user.activeTenantId === ctx.tenantId) await directory.clearActiveTenant(userId);
    }
    await client.send(
      new DeleteCommand({
        TableName: tableName,
        Key: { PK: controlPk(ctx.tenantId), SK: removalSk(userId) },
      }),
    );
  };

  return {
    async list(ctx) {
      await roles.enforce(ctx, 'members:list');
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :m)',
        ExpressionAttributeValues: { ':pk': controlPk(ctx.tenantId), ':m': MEMBER_SK_PREFIX },
      });
      return items.map(toMember);
    },

    async invite(ctx, input) {
      const problems: { field: string; message: string }[] = [];
      if (!isEmail(input.email))
        problems.push({
          field: 'email',
          message: 'must be an email address (at most 254 characters)',
        });
      if (typeof input.role !== 'string' || !ROLE_ID_PATTERN.test(input.role))
        problems.push({ field: 'role', message: `must match ${ROLE_ID_PATTERN}` });
      if (problems.length > 0) throw new InvalidInputError(problems);
      const email = (input.email as string).toLowerCase();
      const roleId = input.role as string;

      const [actor, target] = await Promise.all([
        actorRole(ctx, 'members:invite'),
        role(ctx, roleId, 'members:invite'),
      ]);
      if (!target) throw new RoleNotFoundError(ctx.tenantId, roleId);
      assertHolds(ctx, 'members:invite', actor, { roleId, compiled: target.compiled });
      const user = await directory.findUser(email);
      if (!user) throw new NotFoundError('user', `no user with email ${email}`);
      const tenant = await getItem(ctx, TENANT_SK);
      const member = membershipItem({
        tenantId: ctx.tenantId,
        userId: user.userId,
        role: roleId,
        tenantName: String(tenant?.name ?? ctx.tenantId),
        email,
        joinedAt: new Date(now()).toISOString(),
      });
      try {
        await write(
          ctx,
          'members:invite',
          [
            {
              Put: {
                TableName: tableName,
                Item: member,
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            countOn(ctx, roleId, 1, actor ? target.version : undefined),
            // A removal of this user still finishing must not take the new membership's group away.
            dropMarker(ctx, user.userId),
          ],
          pin(actor),
        );
      } catch (error) {
        if (!(error instanceof WriteConditionError)) throw error;
        if (!error.has(0)) throw countFailure(error, 1, ctx, roleId, 1);
        const existing = await getItem(ctx, memberSk(user.userId));
        if (existing?.role !== roleId) {
          throw new ConflictError(
            'already-member',
            `${email} is already a member with role ${String(existing?.role)}`,
            { cause: error },
          );
        }
        // The same invitation again: the membership is there; make sure the group is too.
      }
      await directory.addToGroup(user.userId, ctx.tenantId);
      // A user with no active tenant gets this one, so their next sign-in lands in it.
      if (!user.activeTenantId) await directory.setActiveTenant(user.userId, ctx.tenantId, roleId);
      return toMember(member);
    },

    async changeRole(ctx, userId, input) {
      const to = roleInput(input.role);
      if (userId === ctx.userId && !isAdmin(ctx))
        throw new PermissionDeniedError('members:update', 'own-role');
      const current = await memberOf(ctx, userId);
      const from = String(current.role);
      const [actor, fromRole, toRole] = await Promise.all([
        actorRole(ctx, 'members:update'),
        role(ctx, from, 'members:update'),
        role(ctx, to, 'members:update'),
      ]);
      if (!toRole) throw new RoleNotFoundError(ctx.tenantId, to);
      // Both ends: taking a role away is as much within one's rights as handing it out.
      assertHolds(ctx, 'members:update', actor, { roleId: from, compiled: fromRole?.compiled });
      assertHolds(ctx, 'members:update', actor, { roleId: to, compiled: toRole.compiled });
      if (from === to) {
        // Nothing to write, but the answer (and the attribute fix-up below) is still for the allowed.
        await roles.enforce(ctx, 'members:update');
      } else {
        try {
          await write(
            ctx,
            'members:update',
            [
              {
                Update: {
                  TableName: tableName,
                  Key: { PK: controlPk(ctx.tenantId), SK: memberSk(userId) },
                  UpdateExpression: 'SET #role = :to',
                  // Someone else changed or removed them since we read: do not guess, report.
                  ConditionExpression: '#role = :from',
                  ExpressionAttributeNames: { '#role': 'role' },
                  ExpressionAttributeValues: { ':to': to, ':from': from },
                },
              },
              countOn(ctx, from, -1, actor ? fromRole?.version : undefined),
              countOn(ctx, to, 1, actor ? toRole.version : undefined),
            ],
            pin(actor),
          );
        } catch (error) {
          if (!(error instanceof WriteConditionError)) throw error;
          if (error.has(0))
            throw new ConflictError('stale-version', 'the membership changed meanwhile; retry', {
              cause: error,
            });
          if (error.has(1)) throw countFailure(error, 1, ctx, from, -1);
          throw countFailure(error, 2, ctx, to, 1);
        }
      }
      // Their next tokens carry the new role if this is their active tenant; until then the
      // membership check refuses their old-role token (within its cache bound).
      const user = await directory.findUser(userId);
      if (user?.activeTenantId === ctx.tenantId && user.role !== to) {
        await directory.setActiveTenant(userId, ctx.tenantId, to);
      }
      return toMember({ ...current, role: to });
    },

    async remove(ctx, userId) {
      if (!isUserId(userId)) throw notAMember(userId);
      const current = await getItem(ctx, memberSk(userId));
      if (!current) {
        // No membership: only a removal whose Cognito cleanup did not finish may be completed, and
        // only by someone allowed to remove members. Anything else never reaches Cognito.
        if (!(await getItem(ctx, removalSk(userId)))) throw notAMember(userId);
        await roles.enforce(ctx, 'members:remove');
        await cleanUp(ctx, userId);
        return;
      }
      const from = String(current.role);
      const [actor, fromRole] = await Promise.all([
        actorRole(ctx, 'members:remove'),
        role(ctx, from, 'members:remove'),
      ]);
      assertHolds(ctx, 'members:remove', actor, { roleId: from, compiled: fromRole?.compiled });
      try {
        await write(
          ctx,
          'members:remove',
          [
            {
              Delete: {
                TableName: tableName,
                Key: { PK: controlPk(ctx.tenantId), SK: memberSk(userId) },
                ConditionExpression: '#role = :from',
                ExpressionAttributeNames: { '#role': 'role' },
                ExpressionAttributeValues: { ':from': from },
              },
            },
            countOn(ctx, from, -1, actor ? fromRole?.version : undefined),
            marker(ctx, userId),
          ],
          pin(actor),
        );
      } catch (error) {
        if (!(error instanceof WriteConditionError)) throw error;
        if (error.has(0))
          throw new ConflictError('stale-version', 'the membership changed meanwhile; retry', {
            cause: error,
          });
        throw countFailure(error, 1, ctx, from, -1);
      }
      await cleanUp(ctx, userId);
    },
  };
}
