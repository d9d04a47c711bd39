/** `tenantgate/tenants`: the control plane's logic and DynamoDB adapters. */

export {
  type Aircraft,
  type AircraftService,
  type AircraftServiceOptions,
  AircraftStatus,
  createAircraftService,
} from './aircraft.js';
export { builtInRoleItems, builtInRolePuts, builtInRoles } from './builtin-roles.js';
export {
  type CognitoDirectoryOptions,
  createCognitoDirectory,
  type DirectoryUser,
  type Tokens,
  tokenGroups,
  tokenSubject,
  type UserDirectory,
} from './directory.js';
export {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  type PermissionDeniedReason,
  RefreshTokenError,
  ReservedRoleError,
  RightsExceededError,
  RoleConflictError,
  RoleNotFoundError,
  TenantAccessError,
  TenantsConfigError,
  TenantsError,
  WriteConditionError,
} from './errors.js';
export {
  createGuardedWriter,
  createTenantGuardedWriter,
  deniedBecause,
  type GuardedWrite,
  type GuardedWriteRequest,
  type GuardedWriterOptions,
  MAX_GUARDED_WRITES,
  permissionCheck,
  roleItemPermits,
  type TenantGuardedWrite,
  type TransactItem,
} from './guarded-write.js';
export {
  isEmail,
  isRefreshToken,
  isUserId,
  isVersion,
  MAX_EMAIL_LENGTH,
  MAX_REFRESH_TOKEN_LENGTH,
  MAX_VERSION,
} from './limits.js';
export {
  createMembersService,
  type Member,
  type MembersService,
  type MembersServiceOptions,
} from './members.js';
export {
  createMembershipCheck,
  MAX_MEMBERSHIP_TTL_MS,
  type MembershipCheckOptions,
} from './membership-check.js';
export {
  createMembershipCheckWith,
  type MembershipCacheOptions,
  type MembershipKey,
  type MembershipRoleReader,
} from './membership-core.js';
export {
  createProfileStore,
  type ProfileStore,
  type ProfileStoreOptions,
  type SignUp,
} from './profiles.js';
export { assertHolds, readStoredRole, type StoredRole } from './rights.js';
export {
  createRoleAuthorizer,
  type RoleAuthorizer,
  type RoleAuthorizerOptions,
} from './role-authorizer.js';
export {
  createRolesAdmin,
  type RoleInput,
  type RolesAdmin,
  type RolesAdminOptions,
  type RoleView,
} from './roles-admin.js';
export {
  createRolesStore,
  type RolesStore,
  type RolesStoreOptions,
  roleItem,
} from './roles-store.js';
export {
  type CreateTenantResult,
  createTenantService,
  MAX_TENANT_NAME_LENGTH,
  membershipItem,
  type SwitchTenantResult,
  type Tenant,
  type TenantMembership,
  type TenantService,
  type TenantServiceOptions,
} from './tenant-service.js';
