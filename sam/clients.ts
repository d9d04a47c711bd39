/** The AWS clients the handlers build once at init, from their frozen config. */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type TenantContext, tenantDynamoClient } from '../authorizer/index.js';
import { createCognitoDirectory, type UserDirectory } from '../tenants/index.js';
import type { ControlPlaneConfig } from './config.js';
import { EnvConfigError } from './errors.js';
import { timeLimited } from './time-limited.js';

export { timeLimited };

/** The user directory over the function's own role (the admin actions template.yaml grants it). */
export function userDirectory(
  config: ControlPlaneConfig,
  clientConfig: ConstructorParameters<typeof CognitoIdentityProviderClient>[0] = {},
): UserDirectory {
  if (!config.userPoolId || !config.clientId) {
    throw new EnvConfigError(['USER_POOL_ID and USER_POOL_CLIENT_ID are required']);
  }
  return createCognitoDirectory({
    client: new CognitoIdentityProviderClient({
      requestHandler: timeLimited(config.dependencyTimeoutMs),
      ...clientConfig,
    }),
    userPoolId: config.userPoolId,
    clientId: config.clientId,
    tenantClaim: config.tenantClaim,
    roleClaim: config.roleClaim,
  });
}

/**
 * The table with the function's own role: for the control-plane functions, whose writes go to the
 * control partitions that tenant credentials cannot write (template.yaml confines each role by
 * `dynamodb:LeadingKeys`).
 */
export function ownTableClient(
  config: Pick<ControlPlaneConfig, 'dependencyTimeoutMs'>,
  clientConfig: DynamoDBClientConfig = {},
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      requestHandler: timeLimited(config.dependencyTimeoutMs),
      ...clientConfig,
    }),
  );
}

/** Per caller: the table signed with the caller's tenant-scoped credentials, time-limited alike. */
export function tenantTableClients(
  config: Pick<ControlPlaneConfig, 'dependencyTimeoutMs'>,
  overrides: Omit<DynamoDBClientConfig, 'credentials'> = {},
): (ctx: TenantContext) => DynamoDBDocumentClient {
  const clientConfig = { requestHandler: timeLimited(config.dependencyTimeoutMs), ...overrides };
  return (ctx) => tenantDynamoClient(ctx, { clientConfig });
}
