/** Errors of the Cognito Identity stand-in (`sam/local/identity-pool/`). */
import { SamError } from '../../errors.js';

/** Base of every error the stand-in raises. */
export class IdentityPoolError extends SamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityPoolError';
  }
}

/** `startIdentityPool` options are invalid; lists every problem at once, raised before listening. */
export class IdentityPoolConfigError extends IdentityPoolError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid identity pool options:\n- ${issues.join('\n- ')}`);
    this.name = 'IdentityPoolConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * The `__type` names the stand-in answers with. Service errors are the shapes of the Cognito
 * Identity Smithy model (`com.amazonaws.cognitoidentity#…`, as compiled into
 * `@aws-sdk/client-cognito-identity`); the rest come from the AWS JSON front end (Coral), which
 * answers them before the service sees the request: validation, and for the IAM-signed operations
 * (GetOpenIdTokenForDeveloperIdentity) authentication and IAM authorization.
 */
export const ServiceErrorType = {
  notAuthorized: 'NotAuthorizedException',
  resourceNotFound: 'ResourceNotFoundException',
  invalidParameter: 'InvalidParameterException',
  invalidIdentityPoolConfiguration: 'InvalidIdentityPoolConfigurationException',
  developerUserAlreadyRegistered: 'DeveloperUserAlreadyRegisteredException',
  externalService: 'ExternalServiceException',
  internalError: 'InternalErrorException',
  validation: 'ValidationException',
  serialization: 'SerializationException',
  unknownOperation: 'UnknownOperationException',
  missingAuthenticationToken: 'MissingAuthenticationTokenException',
  incompleteSignature: 'IncompleteSignatureException',
  invalidSignature: 'InvalidSignatureException',
  unrecognizedClient: 'UnrecognizedClientException',
  expiredToken: 'ExpiredTokenException',
  accessDenied: 'AccessDeniedException',
} as const;
export type ServiceErrorType = (typeof ServiceErrorType)[keyof typeof ServiceErrorType];

/**
 * An error answered on the wire: `{"__type": type, "message": …}`. Never carries a token: messages
 * name claims and providers, not values from `Logins`.
 */
export class ServiceError extends IdentityPoolError {
  readonly type: ServiceErrorType;
  constructor(type: ServiceErrorType, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceError';
    this.type = type;
  }
}
