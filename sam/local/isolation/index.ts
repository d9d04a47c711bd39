/** Tenant isolation for the local stack: IAM's LeadingKeys judgement in front of DynamoDB Local. */
export { type AccessCheck, accessChecks, type KeySchemaLookup } from './dynamodb-requests.js';
export {
  evaluateIam,
  globMatch,
  type IamDecision,
  type IamPolicy,
  type IamRequest,
  type IamStatement,
  substitute,
} from './iam.js';
export {
  type IsolationProxy,
  type IsolationProxyOptions,
  type SessionInfo,
  startIsolationProxy,
} from './proxy.js';
export { tenantRolePolicy } from './template-policy.js';
