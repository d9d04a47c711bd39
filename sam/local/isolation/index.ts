/**
 * IAM for the local stack, enforced in front of DynamoDB Local (which enforces none): the tenant data
 * role's policy — LeadingKeys scoped by principal tags — for tenant sessions, and each function's
 * own policy for its role's calls.
 */

export {
  credentialAccessKeyId,
  parseAuthorization,
  type SignatureProblem,
  type SignedRequest,
  type SigV4Authorization,
  verifySignature,
} from '../sigv4.js';
export {
  type AccessCheck,
  analyzeRequest,
  DYNAMODB_TARGET_PREFIX,
  dynamoDbErrorType,
  type KeySchemaLookup,
  parseRequestBody,
  parseTarget,
  type RequestAnalysisOptions,
  type TableKeySchema,
} from './dynamodb-requests.js';
export * from './errors.js';
export {
  createIamEvaluator,
  evaluateIamPolicy,
  type IamConditionValue,
  type IamContextValue,
  IamDecision,
  type IamEvaluation,
  type IamEvaluator,
  type IamPolicyDocument,
  type IamRequest,
  type IamStatement,
  POLICY_VERSION,
  principalTagContext,
  validateIamPolicy,
} from './iam.js';
export {
  type IsolationDecisions,
  type IsolationProxy,
  type IsolationProxyOptions,
  type SessionInfo,
  startIsolationProxy,
} from './proxy.js';
export { tenantRolePolicy } from './template-policy.js';
