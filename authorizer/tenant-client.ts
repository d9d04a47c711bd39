/**
 * The table client of a protected function, signed with the caller's tenant-scoped credentials. A
 * module of its own, apart from context.ts: the authorizer encodes contexts and never needs the
 * DynamoDB client, and @aws-sdk/lib-dynamodb does not declare itself free of side effects, so a
 * bundler keeps whatever a module it is imported into pulls in (50 KiB and ~25% of the authorizer's
 * init, measured, when it sat in context.ts).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import type { TenantContext } from './types.js';

/** Options of {@link tenantDynamoClient}. */
export interface TenantDynamoClientOptions {
  /** Passed to every new `DynamoDBClient` (region, endpoint, …); credentials are always the tenant's. */
  readonly clientConfig?: Omit<DynamoDBClientConfig, 'credentials'>;
  /** The document client's marshalling options. Default `{ marshallOptions: { removeUndefinedValues: true } }`. */
  readonly translateConfig?: TranslateConfig;
  /** How many clients to keep (one per access key). Default 64. */
  readonly maxClients?: number;
}

/**
 * Clients keyed by access key id. Building a client costs ~0.3 ms and loses its connection pool, so a
 * warm function reuses one per credentials set; the bound keeps memory flat when callers churn.
 */
const clients = new Map<string, DynamoDBDocumentClient>();

/**
 * A DynamoDB document client signed with the caller's tenant-scoped credentials — never the function's
 * own role — so IAM's `dynamodb:LeadingKeys` condition confines every call to the caller's tenant.
 */
export function tenantDynamoClient(
  ctx: Pick<TenantContext, 'credentials'>,
  options: TenantDynamoClientOptions = {},
): DynamoDBDocumentClient {
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = ctx.credentials;
  const key = `${accessKeyId}\n${sessionToken}`;
  const existing = clients.get(key);
  if (existing) {
    clients.delete(key);
    clients.set(key, existing);
    return existing;
  }
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      ...options.clientConfig,
      credentials: { accessKeyId, secretAccessKey, sessionToken, expiration },
    }),
    options.translateConfig ?? { marshallOptions: { removeUndefinedValues: true } },
  );
  clients.set(key, client);
  const max = options.maxClients ?? 64;
  while (clients.size > max) {
    const oldest = clients.keys().next().value;
    if (oldest === undefined) break;
    clients.get(oldest)?.destroy();
    clients.delete(oldest);
  }
  return client;
}
