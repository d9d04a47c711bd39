/** Tenant isolation for the local stack: IAM's LeadingKeys judgement in front of DynamoDB Local. */
export { type AccessCheck, accessChecks, type KeySchemaLookup } from './dynamodb-requests.js';
export {
  createIamEvaluator,
  evaluateIamPolicy,
  IamDecision,
  type IamEvaluation,
  type IamPolicyDocument,
  type IamRequest,
  type IamStatement,
  principalTagContext,
  validateIamPolicy,
} from './iam.js';
export {
  type IsolationProxy,
  type IsolationProxyOptions,
  type SessionInfo,
  startIsolationProxy,
} from './proxy.js';
export { tenantRolePolicy } from './template-policy.js';
