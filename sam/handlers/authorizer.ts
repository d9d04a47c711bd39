/**
 * The AuthorizerFunction's entry point. Everything is built once at init (config, logger, metrics,
 * verifier, the Cognito Identity client, the table calls); a request only runs the handler.
 *
 * What this bundle imports is kept at the dependency floor — aws-jwt-verify and
 * @aws-sdk/client-cognito-identity, which any authorizer of this design needs — plus our own code:
 * logs and metrics come from sam/telemetry.ts rather than Powertools, and the table calls from
 * sam/dynamodb-json.ts rather than the DynamoDB client (bench/cold-start.ts measures both choices
 * against that floor).
 */
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { createAuthorizer } from '../../authorizer/index.js';
import { createMembershipCheckWith } from '../../tenants/index.js';
import { readAuthorizerConfig } from '../config.js';
import { dynamoJson } from '../dynamodb-json.js';
import { dynamoMembershipReader } from '../membership-reader.js';
import { dynamoOpenIdTokens } from '../openid-token-store.js';
import { emfMetrics, jsonLogger } from '../telemetry.js';
import { timeLimited } from '../time-limited.js';

const {
  serviceName,
  metricsNamespace,
  logLevel,
  metricsDisabled,
  functionName,
  region,
  dynamodbEndpoint,
  membershipTable,
  membershipTtlMs,
  openIdTokenTable,
  ...options
} = readAuthorizerConfig();
const timeoutMs = options.dependencyTimeoutMs ?? 1000;

// maxAttempts 1: the credentials provider retries with jitter itself, within its budget.
const cognitoIdentity = new CognitoIdentityClient({
  region: options.identityPoolId.split(':')[0],
  maxAttempts: 1,
  requestHandler: timeLimited(timeoutMs),
});
// The credential chain resolved during init, beside the JWKS download, not on the first request
// (the SDK loads and runs its providers on first use). A failure is not fatal: the first call
// resolves again, and fails closed there.
cognitoIdentity.config.credentials().catch(() => {});

// The function's own role: GetItem on the control partitions, GetItem/PutItem on its own `AUTHZ#`
// ones (template.yaml).
const table = region
  ? dynamoJson({
      region,
      ...(dynamodbEndpoint ? { endpoint: dynamodbEndpoint } : {}),
      credentials: () => cognitoIdentity.config.credentials(),
      timeoutMs,
    })
  : undefined;

/** API Gateway Lambda authorizer: REST TOKEN/REQUEST and HTTP API 1.0/2.0 events. */
export const handler = createAuthorizer({
  ...options,
  cognitoIdentity,
  logger: jsonLogger({ serviceName, level: logLevel }),
  metrics: emfMetrics({
    namespace: metricsNamespace,
    serviceName,
    disabled: metricsDisabled,
    ...(functionName ? { functionName } : {}),
  }),
  ...(membershipTable && table
    ? {
        membershipCheck: createMembershipCheckWith(
          dynamoMembershipReader({ call: table, tableName: membershipTable }),
          { tableName: membershipTable, ttlMs: membershipTtlMs },
        ),
      }
    : {}),
  ...(openIdTokenTable && table
    ? { sharedOpenIdTokens: dynamoOpenIdTokens({ call: table, tableName: openIdTokenTable }) }
    : {}),
});
