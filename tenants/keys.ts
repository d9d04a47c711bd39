/** The single table's keys, in one place. Tenant ids are validated upstream to exclude `#`. */
export const tenantPk = (tenantId: string) => `TENANT#${tenantId}`;
export const roleSk = (roleId: string) => `ROLE#${roleId}`;
export const ROLE_SK_PREFIX = 'ROLE#';
export const memberSk = (userId: string) => `USER#${userId}`;
