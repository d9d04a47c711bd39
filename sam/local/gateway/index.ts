/**
 * Public surface of the local API Gateway used by the local stack (`npm start`): `startLocalApi`
 * serves template routes with the Lambda authorizer in front, as API Gateway would.
 */
export type { GatewayResponseOptions, HttpCorsOptions, RestCorsOptions } from './cors.js';
export { InvalidLambdaResponseError, LocalApiConfigError, LocalApiError } from './errors.js';
export {
  executeApiArn,
  GatewayError,
  type GatewayErrorKind,
} from './events.js';
export {
  evaluatePolicy,
  matchesAction,
  matchesResource,
  type PolicyDecision,
  type PolicyDocument,
  parsePolicyDocument,
} from './iam-match.js';
export {
  type LambdaContext,
  type LambdaHandler,
  type LocalApi,
  type LocalApiOptions,
  type LocalApiStats,
  type LocalAuthorizerOptions,
  type LocalRoute,
  startLocalApi,
} from './server.js';
