/**
 * The Cognito Identity stand-in of the local stack: `startIdentityPool` serves GetId and
 * GetCredentialsForIdentity as the service does, and its `sessions` registry tells the local
 * DynamoDB isolation layer which principal tags a set of credentials carries.
 */
export {
  IdentityPoolConfigError,
  IdentityPoolError,
  ServiceError,
  ServiceErrorType,
} from './errors.js';
export {
  type IdentityPool,
  type IdentityPoolOptions,
  type IdentityPoolStats,
  startIdentityPool,
} from './server.js';
export { identityIdFor, type Session, type SessionRegistry } from './sessions.js';
export type { IdentityPoolProvider, JsonWebKeySet } from './tokens.js';
