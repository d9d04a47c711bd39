/**
 * The AuthorizerFunction's entry point. Everything is built once at init (config, logger, metrics,
 * verifier, Cognito Identity and DynamoDB clients); a request only runs the handler.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAuthorizer } from '../../authorizer/index.js';
import { createMembershipCheck } from '../../tenants/index.js';
import { readAuthorizerConfig } from '../config.js';

const { serviceName, metricsNamespace, membershipTable, membershipTtlMs, ...options } =
  readAuthorizerConfig();

/** API Gateway Lambda authorizer: REST TOKEN/REQUEST and HTTP API 1.0/2.0 events. */
export const handler = createAuthorizer({
  ...options,
  logger: new Logger({ serviceName }),
  metrics: new Metrics({ namespace: metricsNamespace, serviceName }),
  ...(membershipTable
    ? {
        membershipCheck: createMembershipCheck({
          // The function's own role: it may only GetItem on the table (template.yaml).
          client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
          tableName: membershipTable,
          ttlMs: membershipTtlMs,
        }),
      }
    : {}),
});
