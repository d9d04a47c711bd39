/** Public surface of `tenantgate/authorizer`. */
export * from './errors.js';
export type {
  AuthorizerObserver,
  AwsCredentials,
  Clock,
  Logger,
  TenantContext,
  VerifiedIdToken,
} from './types.js';
