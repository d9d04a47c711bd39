/**
 * Tenant creation, a user's tenant list, and tenant switching. These run with the control-plane
 * function's own role: a new user has no tenant yet (so no tenant-scoped credentials), and switching
 * reads a membership in a tenant that is not the caller's active one.
 *
 * Creating a tenant spans DynamoDB and Cognito, which share no transaction. The steps are ordered so
 * that a failure at any point leaves nothing the user cannot reach, and each is idempotent, so calling
 * POST /tenants again completes the same tenant (README: "Creating a tenant: failure points"):
 *   1. one transaction: tenant item (`creating`), admin membership, built-in roles, and the profile's
 *      `pendingTenant` marker — all or nothing;
 *   2. the Cognito group; 3. the user in it; 4. `custom:tenant_id` / `custom:role`;
 *   5. REFRESH_TOKEN_AUTH: tokens that carry the new tenant;
 *   6. one transaction: tenant `active`, marker removed.
 * A retry finds the marker and resumes at step 2 with the same tenant id.
 */
import { randomBytes } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../authorizer/index.js';
import { BuiltInRoleId } from '../policy/index.js';
import { builtInRoleItems } from './builtin-roles.js';
import type { Tokens, UserDirectory } from './directory.js';
import { tokenGroups, tokenSubject } from './directory.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  RefreshTokenError,
  TenantAccessError,
  TenantsConfigError,
} from './errors.js';
import {
  CONTROL_PK_PREFIX,
  controlPk,
  GSI1,
  memberSk,
  PROFILE_SK,
  roleSk,
  TENANT_SK,
  userPk,
} from './keys.js';
import { isRefreshToken, MAX_REFRESH_TOKEN_LENGTH } from './limits.js';
import { queryAll, tableOptionIssues } from './query-all.js';

/** Longest tenant name accepted. */
export const MAX_TENANT_NAME_LENGTH = 100;

/** A tenant: its id (the Cognito group name) and display name. */
export interface Tenant {
  readonly tenantId: string;
  readonly name: string;
}

/** One of the caller's tenants, as `GET /me/tenants` lists it. */
export interface TenantMembership extends Tenant {
  readonly role: string;
  /** Whether this is the caller's active tenant (the one their token names). */
  readonly active: boolean;
}

/** Options of {@link createTenantService}. */
export interface TenantServiceOptions {
  /** The control-plane function's own role (not tenant-scoped). */
  readonly client: DynamoDBDocumentClient;
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
  /** The user pool: the tenant's group, membership and the active-tenant attributes. */
  readonly directory: UserDirectory;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** A new tenant id; default 12 URL-safe characters from 72 random bits. */
  readonly newTenantId?: () => string;
}

/** What `createTenant` returns. */
export interface CreateTenantResult {
  readonly tenant: Tenant;
  /** Whether this call finished a creation an earlier call began. */
  readonly resumed: boolean;
  /** Tokens carrying the new tenant; absent when Cognito refused the refresh token (sign in again). */
  readonly tokens?: Tokens;
}

/** What `switchTenant` returns: the new active tenant, the caller's role in it, and tokens carrying it. */
export interface SwitchTenantResult {
  readonly tenantId: string;
  readonly role: string;
  readonly tokens: Tokens;
}

/** Tenants of a user: create, list, switch (the tenant-less routes; acts with its own role). */
export interface TenantService {
  /** @throws InvalidInputError for a bad name, ConflictError when a creation races another. */
  createTenant(input: {
    userId: string;
    name: unknown;
    refreshToken?: string;
  }): Promise<CreateTenantResult>;
  /** The caller's tenants, with names and the caller's role in each (GSI1). */
  listTenants(userId: string, activeTenantId?: string): Promise<TenantMembership[]>;
  /**
   * Make `tenantId` the caller's active tenant and return tokens that carry it.
   * @throws TenantAccessError when it is not among the caller's groups, NotFoundError without a
   * membership item, RefreshTokenError when Cognito refuses the refresh token.
   */
  switchTenant(input: {
    userId: string;
    groups: readonly string[];
    tenantId: string;
    refreshToken: string;
  }): Promise<SwitchTenantResult>;
}

const defaultTenantId = () => randomBytes(9).toString('base64url');

const REFRESH_TOKEN_PROBLEM = `must be a refresh token (at most ${MAX_REFRESH_TOKEN_LENGTH} characters)`;

/** A tenant item this user created and whose creation has not finished: the only one to resume. */
const isOwnUnfinished = (item: Record<string, unknown> | undefined, userId: string) =>
  item?.type === 'tenant' && item.createdBy === userId && item.status === 'creating';

/** A GSI1 entry that is the user's membership item itself, in a tenant's control partition. */
const isMembershipOf = (userId: string) => (item: Record<string, unknown>) =>
  isTenantId(item.tenantId) &&
  item.PK === controlPk(item.tenantId) &&
  item.SK === memberSk(userId) &&
  item.userId === userId;

/** The membership item: `CONTROL#t` / `USER#u`, inverted by GSI1 for "my tenants". */
export function membershipItem(input: {
  tenantId: string;
  userId: string;
  role: string;
  tenantName: string;
  email?: string;
  joinedAt: string;
}): Record<string, unknown> {
  return {
    PK: controlPk(input.tenantId),
    SK: memberSk(input.userId),
    GSI1PK: userPk(input.userId),
    GSI1SK: controlPk(input.tenantId),
    type: 'membership',
    tenantId: input.tenantId,
    userId: input.userId,
    role: input.role,
    tenantName: input.tenantName,
    ...(input.email ? { email: input.email } : {}),
    joinedAt: input.joinedAt,
  };
}

/** @throws TenantsConfigError listing every invalid option. */
export function createTenantService(options: TenantServiceOptions): TenantService {
  const issues: string[] = [];
  tableOptionIssues(options, issues);
  if (typeof options?.directory?.refresh !== 'function')
    issues.push('directory must be a UserDirectory');
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { client, tableName, directory } = options;
  const now = options.now ?? Date.now;
  const newTenantId = options.newTenantId ?? defaultTenantId;

  const get = async (PK: string, SK: string) =>
    (
      await client.send(
        new GetCommand({ TableName: tableName, Key: { PK, SK }, ConsistentRead: true }),
      )
    ).Item;

  /** Refresh, and refuse tokens that are not the caller's (someone else's refresh token). */
  const refreshFor = async (userId: string, refreshToken: string): Promise<Tokens> => {
    const tokens = await directory.refresh(refreshToken);
    if (tokenSubject(tokens.idToken) !== userId) {
      throw new RefreshTokenError('the refresh token belongs to another user');
    }
    return tokens;
  };

  /** Steps 2–4: idempotent, safe to repeat after any partial failure. */
  const finish = async (userId: string, tenantId: string) => {
    await directory.ensureGroup(tenantId);
    await directory.addToGroup(userId, tenantId);
    await directory.setActiveTenant(userId, tenantId, BuiltInRoleId.admin);
  };

  /** Step 6: the tenant active, the marker gone — only once the refresh has been tried. */
  const finalize = async (userId: string, tenantId: string) => {
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName,
              Key: { PK: controlPk(tenantId), SK: TENANT_SK },
              UpdateExpression: 'SET #status = :active',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':active': 'active' },
              ConditionExpression: 'attribute_exists(PK)',
            },
          },
          {
            Update: {
              TableName: tableName,
              Key: { PK: userPk(userId), SK: PROFILE_SK },
              UpdateExpression: 'REMOVE pendingTenant',
            },
          },
        ],
      }),
    );
  };

  return {
    async createTenant({ userId, name, refreshToken }) {
      const problems: { field: string; message: string }[] = [];
      const trimmed = typeof name === 'string' ? name.trim() : '';
      if (typeof name !== 'string') problems.push({ field: 'name', message: 'must be a string' });
      else if (trimmed === '' || trimmed.length > MAX_TENANT_NAME_LENGTH)
        problems.push({
          field: 'name',
          message: `must be 1 to ${MAX_TENANT_NAME_LENGTH} characters`,
        });
      if (refreshToken !== undefined && !isRefreshToken(refreshToken))
        problems.push({ field: 'refreshToken', message: REFRESH_TOKEN_PROBLEM });
      if (problems.length > 0) throw new InvalidInputError(problems);

      let tenant: Tenant;
      let resumed = false;
      const pending = (await get(userPk(userId), PROFILE_SK))?.pendingTenant;
      const pendingItem = isTenantId(pending)
        ? await get(controlPk(pending), TENANT_SK)
        : undefined;
      if (isTenantId(pending) && isOwnUnfinished(pendingItem, userId)) {
        // An earlier call of this user stopped half-way: finish that tenant, not a second one. Only a
        // tenant this user created and that is still being created: a marker naming anything else
        // (however it got there) must never hand over another tenant's admin role.
        tenant = { tenantId: pending, name: String(pendingItem?.name) };
        resumed = true;
      } else {
        const tenantId = newTenantId();
        if (!isTenantId(tenantId)) throw new TenantsConfigError([`newTenantId gave "${tenantId}"`]);
        tenant = { tenantId, name: trimmed };
        const at = new Date(now()).toISOString();
        const roles = builtInRoleItems(tenantId).map((item) =>
          // The admin role counts its members: the last admin cannot leave or be demoted.
          item.roleId === BuiltInRoleId.admin ? { ...item, assigned: 1 } : { ...item, assigned: 0 },
        );
        try {
          await client.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Put: {
                    TableName: tableName,
                    Item: {
                      PK: controlPk(tenantId),
                      SK: TENANT_SK,
                      type: 'tenant',
                      tenantId,
                      name: trimmed,
                      createdBy: userId,
                      createdAt: at,
                      status: 'creating',
                    },
                    ConditionExpression: 'attribute_not_exists(PK)',
                  },
                },
                {
                  Put: {
                    TableName: tableName,
                    Item: membershipItem({
                      tenantId,
                      userId,
                      role: BuiltInRoleId.admin,
                      tenantName: trimmed,
                      joinedAt: at,
                    }),
                    ConditionExpression: 'attribute_not_exists(PK)',
                  },
                },
                ...roles.map((Item) => ({
                  Put: {
                    TableName: tableName,
                    Item,
                    ConditionExpression: 'attribute_not_exists(PK)',
                  },
                })),
                {
                  // Creates the profile if the sign-up trigger never wrote it. A marker that cannot be
                  // resumed (read above) is replaced in the same transaction; any other marker means a
                  // concurrent creation, which this one must not overtake.
                  Update: {
                    TableName: tableName,
                    Key: { PK: userPk(userId), SK: PROFILE_SK },
                    UpdateExpression: 'SET pendingTenant = :t',
                    ConditionExpression:
                      pending === undefined
                        ? 'attribute_not_exists(pendingTenant)'
                        : 'attribute_not_exists(pendingTenant) OR pendingTenant = :stale',
                    ExpressionAttributeValues: {
                      ':t': tenantId,
                      ...(pending === undefined ? {} : { ':stale': pending }),
                    },
                  },
                },
              ],
            }),
          );
        } catch (error) {
          if ((error as Error).name === 'TransactionCanceledException') {
            throw new ConflictError(
              'already-exists',
              'another tenant creation is in progress for this user; retry to complete it',
              { cause: error },
            );
          }
          throw error;
        }
      }

      await finish(userId, tenant.tenantId);
      // The refresh comes before the marker is removed: if it fails for a passing reason (throttling,
      // a 5xx), the error surfaces and the client's retry still resumes this tenant, never a second one.
      let tokens: Tokens | undefined;
      if (refreshToken !== undefined) {
        try {
          tokens = await refreshFor(userId, refreshToken);
        } catch (error) {
          // A refused token will not get better with a retry: the tenant is complete, sign in again.
          if (!(error instanceof RefreshTokenError)) throw error;
        }
      }
      await finalize(userId, tenant.tenantId);
      return tokens ? { tenant, resumed, tokens } : { tenant, resumed };
    },

    async listTenants(userId, activeTenantId) {
      const items = await queryAll(client, {
        TableName: tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :u AND begins_with(GSI1SK, :t)',
        ExpressionAttributeValues: { ':u': userPk(userId), ':t': CONTROL_PK_PREFIX },
      });
      // Only real membership items: an index entry is whatever item carries these GSI1 keys, and only
      // the control partition (which no tenant credentials can write) holds memberships.
      return items.filter(isMembershipOf(userId)).map((item) => ({
        tenantId: String(item.tenantId),
        name: String(item.tenantName ?? item.tenantId),
        role: String(item.role),
        active: item.tenantId === activeTenantId,
      }));
    },

    async switchTenant({ userId, groups, tenantId, refreshToken }) {
      const problems: { field: string; message: string }[] = [];
      if (!isTenantId(tenantId))
        problems.push({ field: 'tenantId', message: 'must be 1 to 64 of A-Z a-z 0-9 _ -' });
      if (!isRefreshToken(refreshToken))
        problems.push({ field: 'refreshToken', message: REFRESH_TOKEN_PROBLEM });
      if (problems.length > 0) throw new InvalidInputError(problems);
      // The verified token's groups first. A member invited a moment ago holds a token without the
      // new group: their refreshed token (from Cognito, for this very user) is asked before refusing.
      if (!groups.includes(tenantId)) {
        const fresh = await refreshFor(userId, refreshToken);
        if (!tokenGroups(fresh.idToken).includes(tenantId))
          throw new TenantAccessError('not-in-groups', `tenant ${tenantId} is not one of yours`);
      }
      const membership = await get(controlPk(tenantId), memberSk(userId));
      if (!membership) {
        throw new NotFoundError('member', `no membership in tenant ${tenantId}`);
      }
      const role = String(membership.role);
      // The role must still exist (a custom role could be corrupt or removed by hand).
      if (!(await get(controlPk(tenantId), roleSk(role)))) {
        throw new NotFoundError('tenant', `role ${role} of tenant ${tenantId} is missing`);
      }
      await directory.setActiveTenant(userId, tenantId, role);
      return { tenantId, role, tokens: await refreshFor(userId, refreshToken) };
    },
  };
}
