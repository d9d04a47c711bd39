/**
 * Public surface of `tenantgate/authorizer`: `createAuthorizer` for the Lambda authorizer, and
 * `readTenantContext` / `tenantDynamoClient` for the functions it protects.
 */

export { type AuthorizerHandler, type AuthorizerOptions, createAuthorizer } from './authorize.js';
export type { MembershipCheck } from './authorize-types.js';
export {
  type CallerContext,
  ContextKey,
  readCallerContext,
  readTenantContext,
  type TenantlessContext,
} from './context.js';
export type {
  CredentialsPrincipal,
  CredentialsProvider,
  DependencySignal,
  SharedOpenIdToken,
  SharedOpenIdTokens,
  TenantCredentials,
} from './credentials.js';
export * from './errors.js';
export type { AuthorizerResponse, IamPolicyResponse, SimpleResponse } from './events.js';
export { DenyReason, isTenantId, TENANT_ID_PATTERN, type TenantMode } from './tenant.js';
export { type TenantDynamoClientOptions, tenantDynamoClient } from './tenant-client.js';
export {
  createTokenVerifier,
  type Fetcher,
  type JwksCache,
  type TokenVerifier,
  type TokenVerifierOptions,
  type UserPoolOptions,
} from './token.js';
export type {
  AuthorizerObserver,
  AwsCredentials,
  Clock,
  Logger,
  MetricsSink,
  MetricUnitName,
  TenantContext,
  VerifiedIdToken,
} from './types.js';
