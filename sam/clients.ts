/** The AWS clients the control-plane handlers build once at init, from their frozen config. */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCognitoDirectory, type UserDirectory } from '../tenants/index.js';
import type { ControlPlaneConfig } from './config.js';
import { EnvConfigError } from './errors.js';

/** The user directory over the function's own role (the admin actions template.yaml grants it). */
export function userDirectory(config: ControlPlaneConfig): UserDirectory {
  if (!config.userPoolId || !config.clientId) {
    throw new EnvConfigError(['USER_POOL_ID and USER_POOL_CLIENT_ID are required']);
  }
  return createCognitoDirectory({
    client: new CognitoIdentityProviderClient({}),
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
export function ownTableClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}));
}
