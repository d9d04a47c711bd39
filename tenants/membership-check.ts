/**
 * Revocation in seconds, not at token expiry. An ID token stays valid up to an hour after its user is
 * removed from a tenant or given another role; this check asks the table whether the membership item
 * (`CONTROL#t` / `USER#u`) still exists with the role the token claims. Answers are cached for at most
 * 60 s, so a removed member loses access within that bound, and a warm authorizer pays one GetItem per
 * (tenant, user, role) per TTL instead of one per request.
 *
 * Two ways in: `createMembershipCheck` reads with a DynamoDB document client; the cached core,
 * `createMembershipCheckWith` (membership-core.ts), takes any reader of a membership item's role, so
 * the authorizer's bundle need not carry the DynamoDB client (sam/handlers/authorizer.ts).
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { MembershipCheck } from '../authorizer/index.js';
import { createMembershipCheckWith, type MembershipCacheOptions } from './membership-core.js';

export { MAX_MEMBERSHIP_TTL_MS } from './membership-core.js';

/** Options of {@link createMembershipCheck}. */
export interface MembershipCheckOptions extends MembershipCacheOptions {
  /** A client with the authorizer function's own role (read access to membership items). */
  readonly client: DynamoDBDocumentClient;
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
}

/**
 * Build the membership check the authorizer calls (`createAuthorizer({ membershipCheck })`).
 * @throws AuthorizerConfigError for invalid options.
 */
export function createMembershipCheck(options: MembershipCheckOptions): MembershipCheck {
  const { client, tableName } = options;
  return createMembershipCheckWith(
    async (key) => {
      const { Item } = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: key,
          ProjectionExpression: '#role',
          ExpressionAttributeNames: { '#role': 'role' },
        }),
      );
      return Item?.role;
    },
    { ...options, tableName },
  );
}
