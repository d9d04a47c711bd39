/** The roles every tenant gets at creation. */
import type { RoleDocument } from '../policy/index.js';

/**
 * `admin` may do everything. `member` may read and list anything and manage their own profile
 * (`me:*`); writes are for roles the tenant admin defines (e.g. `maintenance-chief` with
 * `aircraft:create`, `aircraft:update`).
 */
export function builtInRoles(tenantId: string): RoleDocument[] {
  return [
    { tenantId, roleId: 'admin', name: 'Administrator', allow: ['*'], deny: [], version: 1 },
    {
      tenantId,
      roleId: 'member',
      name: 'Member',
      allow: ['*:read', '*:list', '*:*:read', '*:*:list', 'me:*'],
      deny: [],
      version: 1,
    },
  ];
}
