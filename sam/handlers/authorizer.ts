/**
 * The AuthorizerFunction's entry point. Everything is built once at init (config, logger, metrics,
 * verifier, Cognito Identity client); a request only runs the handler.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createAuthorizer } from '../../authorizer/index.js';
import { readAuthorizerConfig } from '../config.js';

const { serviceName, metricsNamespace, ...options } = readAuthorizerConfig();

/** API Gateway Lambda authorizer: REST TOKEN/REQUEST and HTTP API 1.0/2.0 events. */
export const handler = createAuthorizer({
  ...options,
  logger: new Logger({ serviceName }),
  metrics: new Metrics({ namespace: metricsNamespace, serviceName }),
});
