/** The single table's keys, in one place. Tenant ids are validated upstream to exclude `#`. */
export const tenantPk = (tenantId: string) => `TENANT#${tenantId}`;
export const TENANT_PK_PREFIX = 'TENANT#';
/** The tenant's own item (name, creator, status) sits in its partition under this sort key. */
export const TENANT_SK = 'TENANT';
export const roleSk = (roleId: string) => `ROLE#${roleId}`;
export const ROLE_SK_PREFIX = 'ROLE#';
export const memberSk = (userId: string) => `USER#${userId}`;
export const MEMBER_SK_PREFIX = 'USER#';
/** A user's own partition: the profile written at sign-up, readable with the user's own credentials. */
export const userPk = (userId: string) => `USER#${userId}`;
export const PROFILE_SK = 'PROFILE';
/** GSI1 inverts memberships: `GSI1PK = USER#u`, `GSI1SK = TENANT#t` lists a user's tenants. */
export const GSI1 = 'GSI1';
export const aircraftSk = (aircraftId: string) => `AIRCRAFT#${aircraftId}`;
export const AIRCRAFT_SK_PREFIX = 'AIRCRAFT#';
