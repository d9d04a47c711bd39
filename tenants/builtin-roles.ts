/** The roles every tenant gets at creation. */
import { BuiltInRoleId, type RoleDocument } from '../policy/index.js';
import type { TransactItem } from './guarded-write.js';
import { roleItem } from './roles-store.js';

/**
 * `admin` may do everything. `member` may read and list anything in the tenant (`*:read`, `*:list`,
 * `*:*:read`, `*:*:list`, so `aircraft:read` and `billing:invoice:list` alike) and act on their own
 * profile (`me:*`, e.g. `me:update`); no write outside `me:` — writes belong to roles the tenant admin
 * defines (e.g. `maintenance-chief` with `aircraft:create`, `aircraft:update`). A tenant that wants a
 * narrower member edits `member` (allowed); `admin` cannot be edited.
 */
export function builtInRoles(tenantId: string): RoleDocument[] {
  return [
    {
      tenantId,
      roleId: BuiltInRoleId.admin,
      name: 'Administrator',
      allow: ['*'],
      deny: [],
      version: 1,
    },
    {
      tenantId,
      roleId: BuiltInRoleId.member,
      name: 'Member',
      allow: ['*:read', '*:list', '*:*:read', '*:*:list', 'me:*'],
      deny: [],
      version: 1,
    },
  ];
}

/** The built-in roles as table items (validated, `PK`/`SK` set), for a tenant-creation transaction. */
export function builtInRoleItems(tenantId: string): Record<string, unknown>[] {
  return builtInRoles(tenantId).map(roleItem);
}

/**
 * The built-in roles as conditional Puts (fail if the role exists), to go into the one
 * TransactWriteItems that creates a tenant, so a tenant never exists without its roles.
 */
export function builtInRolePuts(tableName: string, tenantId: string): TransactItem[] {
  return builtInRoleItems(tenantId).map((Item) => ({
    Put: { TableName: tableName, Item, ConditionExpression: 'attribute_not_exists(PK)' },
  }));
}
