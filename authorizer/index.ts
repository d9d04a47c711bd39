/**
 * Public surface of `tenantgate/authorizer`: `createAuthorizer` for the Lambda authorizer, and
 * `readTenantContext` / `tenantDynamoClient` for the functions it protects.
 */

// createAuthorizer is exported once authorizer/token.ts lands.
export type { MembershipCheck } from './authorize-types.js';
export {
  type CallerContext,
  ContextKey,
  readCallerContext,
  readTenantContext,
  type TenantDynamoClientOptions,
  type TenantlessContext,
  tenantDynamoClient,
} from './context.js';
export * from './errors.js';
export type { AuthorizerResponse, IamPolicyResponse, SimpleResponse } from './events.js';
export { DenyReason, isTenantId, TENANT_ID_PATTERN, type TenantMode } from './tenant.js';
export type {
  AuthorizerObserver,
  AwsCredentials,
  Clock,
  Logger,
  TenantContext,
  VerifiedIdToken,
} from './types.js';
