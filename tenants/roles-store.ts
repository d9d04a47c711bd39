/**
 * Roles in the single table: `PK = CONTROL#<tenantId>` (the control partition), `SK = ROLE#<roleId>`. Every write is
 * validated by the policy engine first and is conditional: create only if absent, update and delete
 * only at the expected version — a stale version is a conflict, never a silent overwrite.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  BuiltInRoleId,
  type CompiledRole,
  compileRole,
  isReservedRoleId,
  type RoleDocument,
} from '../policy/index.js';
import {
  ConflictError,
  ReservedRoleError,
  RoleConflictError,
  RoleNotFoundError,
  TenantsConfigError,
} from './errors.js';
import { controlPk, ROLE_SK_PREFIX, roleSk } from './keys.js';
import { queryAll, tableOptionIssues } from './query-all.js';

/**
 * The stored item of a role, validated by `compileRole` (throws `PolicyValidationError`).
 * `allow`/`deny` are Lists, not String Sets: an empty deny is storable (an empty SS is not), the
 * document client marshals arrays to Lists with no extra option, and `contains` tests List membership;
 * the guarded write's condition insists on that type.
 */
export function roleItem(doc: RoleDocument): Record<string, unknown> {
  const role = compileRole(doc);
  return {
    PK: controlPk(role.tenantId),
    SK: roleSk(role.roleId),
    type: 'role',
    tenantId: role.tenantId,
    roleId: role.roleId,
    name: role.name,
    allow: [...role.allow],
    deny: [...role.deny],
    version: role.version,
  };
}

/**
 * A stored role item compiled for checks: the inverse of `roleItem`. A missing `deny` is none (role
 * items may predate deny lists); anything else is validated as written, so a corrupt or wrongly typed
 * item throws `PolicyValidationError` rather than being coerced into a role.
 */
export function compileRoleItem(item: Record<string, unknown>): CompiledRole {
  return compileRole({
    tenantId: item.tenantId,
    roleId: item.roleId,
    name: item.name,
    allow: item.allow,
    deny: item.deny ?? [],
    version: item.version,
  } as RoleDocument);
}

const toDocument = (item: Record<string, unknown>): RoleDocument => ({
  tenantId: item.tenantId as string,
  roleId: item.roleId as string,
  name: item.name as string,
  allow: (item.allow as string[]) ?? [],
  deny: (item.deny as string[]) ?? [],
  version: item.version as number,
});

const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** A versioned write's condition failed: the role is gone (404) or at another version (409). */
async function versionFailure(
  store: RolesStore,
  error: unknown,
  tenantId: string,
  roleId: string,
  version: number,
) {
  if (!isConditionFailure(error)) return error;
  if (!(await store.get(tenantId, roleId)))
    return new RoleNotFoundError(tenantId, roleId, { cause: error });
  return new RoleConflictError(`role ${roleId} is not at version ${version}`, { cause: error });
}

/**
 * Role CRUD for a tenant admin. Writes validate with `compileRole` first (`PolicyValidationError`
 * listing every bad entry). The built-in roles come from `builtInRolePuts` at tenant creation: here
 * `admin` and `member` cannot be created or deleted, and `admin` cannot be changed (`ReservedRoleError`).
 */
export interface RolesStore {
  /** Create a role at version 1. @throws RoleConflictError if it exists. */
  create(doc: Omit<RoleDocument, 'version'>): Promise<RoleDocument>;
  get(tenantId: string, roleId: string): Promise<RoleDocument | undefined>;
  list(tenantId: string): Promise<RoleDocument[]>;
  /**
   * Replace a role whose stored version is `doc.version`; returns it at `version + 1`.
   * @throws RoleConflictError at another version, RoleNotFoundError if absent.
   */
  update(doc: RoleDocument): Promise<RoleDocument>;
  /**
   * Delete a role at the expected version.
   * @throws RoleConflictError at another version, RoleNotFoundError if absent.
   */
  delete(tenantId: string, roleId: string, expectedVersion: number): Promise<void>;
}

/** Options of {@link createRolesStore}. */
export interface RolesStoreOptions {
  /** Any document client with access to the tenant's role items (e.g. `tenantDynamoClient(ctx)`). */
  readonly client: DynamoDBDocumentClient;
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
}

/** @throws TenantsConfigError for invalid options. */
export function createRolesStore(options: RolesStoreOptions): RolesStore {
  const issues: string[] = [];
  tableOptionIssues(options, issues);
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { client, tableName } = options;

  return {
    async create(doc) {
      if (isReservedRoleId(doc.roleId)) throw new ReservedRoleError(doc.roleId, 'create');
      const role = { ...doc, version: 1 };
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: roleItem(role),
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) {
          throw new RoleConflictError(
            `role ${doc.roleId} already exists in tenant ${doc.tenantId}`,
            { cause: error },
          );
        }
        throw error;
      }
      return role;
    },
    async get(tenantId, roleId) {
      const { Item } = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: { PK: controlPk(tenantId), SK: roleSk(roleId) },
        }),
      );
      return Item ? toDocument(Item) : undefined;
    },
    async list(tenantId) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :role)',
        ExpressionAttributeValues: { ':pk': controlPk(tenantId), ':role': ROLE_SK_PREFIX },
      });
      return items.map(toDocument);
    },
    async update(doc) {
      if (doc.roleId === BuiltInRoleId.admin) throw new ReservedRoleError(doc.roleId, 'update');
      const next = { ...doc, version: doc.version + 1 };
      const item = roleItem(next);
      try {
        // Only the document's fields: the member count (`assigned`) kept by membership writes stays.
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { PK: item.PK, SK: item.SK },
            UpdateExpression: 'SET #name = :name, #allow = :allow, #deny = :deny, version = :next',
            ConditionExpression: 'attribute_exists(PK) AND version = :expected',
            ExpressionAttributeNames: { '#name': 'name', '#allow': 'allow', '#deny': 'deny' },
            ExpressionAttributeValues: {
              ':name': item.name,
              ':allow': item.allow,
              ':deny': item.deny,
              ':next': next.version,
              ':expected': doc.version,
            },
          }),
        );
      } catch (error) {
        throw await versionFailure(this, error, doc.tenantId, doc.roleId, doc.version);
      }
      return next;
    },
    async delete(tenantId, roleId, expectedVersion) {
      if (isReservedRoleId(roleId)) throw new ReservedRoleError(roleId, 'delete');
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { PK: controlPk(tenantId), SK: roleSk(roleId) },
            // A role still held by members cannot go: they would be left with a role that grants nothing.
            ConditionExpression:
              'attribute_exists(PK) AND version = :expected AND (attribute_not_exists(assigned) OR assigned = :zero)',
            ExpressionAttributeValues: { ':expected': expectedVersion, ':zero': 0 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      } catch (error) {
        const old = (error as { Item?: Record<string, { N?: string }> }).Item;
        if (isConditionFailure(error) && old && Number(old.version?.N) === expectedVersion) {
          throw new ConflictError(
            'role-in-use',
            `role ${roleId} is still assigned to ${old.assigned?.N} member(s)`,
            { cause: error },
          );
        }
        throw await versionFailure(this, error, tenantId, roleId, expectedVersion);
      }
    },
  };
}
