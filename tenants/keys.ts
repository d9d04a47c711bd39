/**
 * The single table's keys, in one place. Tenant ids are validated upstream to exclude `#`.
 *
 * Two partitions per tenant, because tenant-scoped credentials must never write what decides who may
 * do what (the template's TenantDataRole):
 * - `TENANT#<t>` (and `TENANT#<t>#…`): the tenant's data, read and written with its credentials;
 * - `CONTROL#<t>`: the tenant item, its roles and its memberships — readable with its credentials,
 *   written only by the control-plane functions' own roles.
 */
export const tenantPk = (tenantId: string) => `TENANT#${tenantId}`;
export const controlPk = (tenantId: string) => `CONTROL#${tenantId}`;
export const CONTROL_PK_PREFIX = 'CONTROL#';
/** The tenant's own item (name, creator, status) sits in its control partition under this sort key. */
export const TENANT_SK = 'TENANT';
export const roleSk = (roleId: string) => `ROLE#${roleId}`;
export const ROLE_SK_PREFIX = 'ROLE#';
export const memberSk = (userId: string) => `USER#${userId}`;
export const MEMBER_SK_PREFIX = 'USER#';
/** A member's removal whose Cognito cleanup has not finished yet (members.ts). */
export const removalSk = (userId: string) => `REMOVED#${userId}`;
/** A user's own partition: the profile written at sign-up; only the control plane reads or writes it. */
export const userPk = (userId: string) => `USER#${userId}`;
export const PROFILE_SK = 'PROFILE';
/** GSI1 inverts memberships: `GSI1PK = USER#u`, `GSI1SK = CONTROL#t` lists a user's tenants. */
export const GSI1 = 'GSI1';
export const aircraftSk = (aircraftId: string) => `AIRCRAFT#${aircraftId}`;
export const AIRCRAFT_SK_PREFIX = 'AIRCRAFT#';
