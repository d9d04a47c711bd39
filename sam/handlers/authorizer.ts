/**
 * The AuthorizerFunction's entry point. Everything is built once at init (config, logger, metrics,
 * verifier, the Cognito Identity client, the membership read); a request only runs the handler.
 *
 * What this bundle imports is kept at the dependency floor — aws-jwt-verify and
 * @aws-sdk/client-cognito-identity, which any authorizer of this design needs — plus our own code:
 * logs and metrics come from sam/telemetry.ts rather than Powertools, and the membership GetItem from
 * sam/membership-reader.ts rather than the DynamoDB client (bench/cold-start.ts measures both
 * choices against that floor).
 */
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { createAuthorizer } from '../../authorizer/index.js';
import { createMembershipCheckWith } from '../../tenants/index.js';
import { readAuthorizerConfig } from '../config.js';
import { dynamoMembershipReader } from '../membership-reader.js';
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
  ...options
} = readAuthorizerConfig();
const timeoutMs = options.dependencyTimeoutMs ?? 1000;

// maxAttempts 1: the credentials provider retries with jitter itself, within its budget.
const cognitoIdentity = new CognitoIdentityClient({
  region: options.identityPoolId.split(':')[0],
  maxAttempts: 1,
  requestHandler: timeLimited(timeoutMs),
});

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
  ...(membershipTable && region
    ? {
        membershipCheck: createMembershipCheckWith(
          // The function's own role: it may only GetItem on the control partitions (template.yaml).
          dynamoMembershipReader({
            tableName: membershipTable,
            region,
            ...(dynamodbEndpoint ? { endpoint: dynamodbEndpoint } : {}),
            credentials: () => cognitoIdentity.config.credentials(),
            timeoutMs,
          }),
          { tableName: membershipTable, ttlMs: membershipTtlMs },
        ),
      }
    : {}),
});
