/**
 * The Cognito Identity stand-in of the local stack: `startIdentityPool` serves
 * GetOpenIdTokenForDeveloperIdentity (SigV4 and IAM checked), GetCredentialsForIdentity, GetId and
 * GetOpenIdToken as the service does, and its `sessions` registry tells the local DynamoDB isolation
 * layer which principal tags a set of credentials carries.
 */
export type { IamCaller, IamCallerLookup } from './caller.js';
export {
  IdentityPoolConfigError,
  IdentityPoolError,
  ServiceError,
  ServiceErrorType,
} from './errors.js';
export {
  COGNITO_IDENTITY_ISSUER,
  COGNITO_IDENTITY_LOGIN,
  TAGS_CLAIM,
} from './openid-tokens.js';
export {
  type IdentityPool,
  type IdentityPoolOptions,
  type IdentityPoolStats,
  startIdentityPool,
} from './server.js';
export { identityIdFor, type Session, type SessionRegistry } from './sessions.js';
export type { IdentityPoolProvider, JsonWebKeySet } from './tokens.js';
