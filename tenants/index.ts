/** `tenantgate/tenants`: the control plane's logic and DynamoDB adapters. */
export { builtInRoleItems, builtInRolePuts, builtInRoles } from './builtin-roles.js';
export {
  PermissionDeniedError,
  type PermissionDeniedReason,
  ReservedRoleError,
  RoleConflictError,
  RoleNotFoundError,
  TenantsConfigError,
  TenantsError,
} from './errors.js';
export {
  createGuardedWriter,
  deniedBecause,
  type GuardedWrite,
  type GuardedWriteRequest,
  type GuardedWriterOptions,
  MAX_GUARDED_WRITES,
  permissionCheck,
  type TransactItem,
} from './guarded-write.js';
export {
  createMembershipCheck,
  MAX_MEMBERSHIP_TTL_MS,
  type MembershipCheckOptions,
} from './membership-check.js';
export {
  createRoleAuthorizer,
  type RoleAuthorizer,
  type RoleAuthorizerOptions,
} from './role-authorizer.js';
export {
  createRolesStore,
  type RolesStore,
  type RolesStoreOptions,
  roleItem,
} from './roles-store.js';
