/**
 * The local user pool's front door (`startUserPoolFront`): cognito-local behind it, Cognito's
 * behaviour in front where cognito-local differs or is weaker than AWS.
 */
export { maskDestination, type UserPoolMessage } from './accounts.js';
export { UNAUTHORIZED_ATTRIBUTE_MESSAGE } from './attributes.js';
export { cognitoLocalData, type UserPoolData } from './data.js';
export {
  CognitoErrorType,
  CognitoServiceError,
  UserPoolDataError,
  UserPoolFrontConfigError,
  UserPoolFrontError,
} from './errors.js';
export { type CallAuthorizer, type SecretLookup, SIGNING_SERVICE } from './iam.js';
export { DEFAULT_PASSWORD_POLICY, passwordViolation } from './passwords.js';
export { PUBLIC_OPERATIONS } from './protocol.js';
export {
  startUserPoolFront,
  type UserPoolFront,
  type UserPoolFrontOptions,
  type UserPoolFrontStats,
} from './server.js';
