/** Errors of the user-pool front (`sam/local/user-pool/`), the local Cognito user pool's front door. */
import { SamError } from '../../errors.js';

/** Base of every error the front raises. */
export class UserPoolFrontError extends SamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserPoolFrontError';
  }
}

/** `startUserPoolFront` options are invalid; lists every problem at once, raised before listening. */
export class UserPoolFrontConfigError extends UserPoolFrontError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid user pool front options:\n- ${issues.join('\n- ')}`);
    this.name = 'UserPoolFrontConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/** cognito-local's data (its `.cognito/db` JSON files) could not be read or is not what we expect. */
export class UserPoolDataError extends UserPoolFrontError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserPoolDataError';
  }
}

/**
 * The `__type` names the front answers with: the Cognito Identity Provider Smithy model's exceptions
 * (as compiled into `@aws-sdk/client-cognito-identity-provider`), plus the AWS front end's
 * authentication errors for IAM-signed operations (`MissingAuthenticationTokenException`,
 * `UnrecognizedClientException`, `IncompleteSignatureException`, `InvalidSignatureException`).
 */
export const CognitoErrorType = {
  notAuthorized: 'NotAuthorizedException',
  invalidParameter: 'InvalidParameterException',
  invalidPassword: 'InvalidPasswordException',
  userNotFound: 'UserNotFoundException',
  userNotConfirmed: 'UserNotConfirmedException',
  usernameExists: 'UsernameExistsException',
  codeMismatch: 'CodeMismatchException',
  expiredCode: 'ExpiredCodeException',
  resourceNotFound: 'ResourceNotFoundException',
  internalError: 'InternalErrorException',
  missingAuthenticationToken: 'MissingAuthenticationTokenException',
  unrecognizedClient: 'UnrecognizedClientException',
  incompleteSignature: 'IncompleteSignatureException',
  invalidSignature: 'InvalidSignatureException',
  accessDenied: 'AccessDeniedException',
  serialization: 'SerializationException',
  unknownOperation: 'UnknownOperationException',
} as const;
export type CognitoErrorType = (typeof CognitoErrorType)[keyof typeof CognitoErrorType];

/**
 * An error answered on the wire as Cognito does: HTTP 400 (500 for internal errors) with
 * `{"__type": type, "message": …}`. Messages never carry a password, code or token.
 */
export class CognitoServiceError extends UserPoolFrontError {
  readonly type: string;
  constructor(type: CognitoErrorType | string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CognitoServiceError';
    this.type = type;
  }
}
