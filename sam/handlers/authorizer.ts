/**
 * The AuthorizerFunction's entry point. Everything is built once at init (config, logger, metrics,
 * verifier, Cognito Identity and DynamoDB clients); a request only runs the handler.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createAuthorizer } from '../../authorizer/index.js';
import { createMembershipCheck } from '../../tenants/index.js';
import { ownTableClient } from '../clients.js';
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
          // The function's own role: it may only GetItem on the table (template.yaml). Two attempts
          // at most: the read has twice the dependency time limit in all.
          client: ownTableClient(
            { dependencyTimeoutMs: options.dependencyTimeoutMs ?? 1000 },
            { maxAttempts: 2 },
          ),
          tableName: membershipTable,
          ttlMs: membershipTtlMs,
        }),
      }
    : {}),
});
