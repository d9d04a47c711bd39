/**
 * Revocation in seconds, not at token expiry. An ID token stays valid up to an hour after its user is
 * removed from a tenant or given another role; this check asks the table whether the membership item
 * (`CONTROL#t` / `USER#u`) still exists with the role the token claims. Answers are cached for at most
 * 60 s, so a removed member loses access within that bound, and a warm authorizer pays one GetItem per
 * (tenant, user, role) per TTL instead of one per request.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { AuthorizerConfigError, type Clock, type MembershipCheck } from '../authorizer/index.js';
import { controlPk, memberSk } from './keys.js';
import { createTtlCache } from './ttl-cache.js';

/** Options of {@link createMembershipCheck}. */
export interface MembershipCheckOptions {
  /** A client with the authorizer function's own role (read access to membership items). */
  readonly client: DynamoDBDocumentClient;
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
  /** How long an answer is reused. Default and maximum 60 000 ms: the documented revocation bound. */
  readonly ttlMs?: number;
  /** Cache bound. Default 10 000 entries. */
  readonly maxEntries?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: Clock;
}

/** The longest a removed member keeps access through this check's cache. */
export const MAX_MEMBERSHIP_TTL_MS = 60_000;

/**
 * Build the membership check the authorizer calls (`createAuthorizer({ membershipCheck })`).
 * @throws AuthorizerConfigError for invalid options.
 */
export function createMembershipCheck(options: MembershipCheckOptions): MembershipCheck {
  const ttl = options.ttlMs ?? MAX_MEMBERSHIP_TTL_MS;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const issues: string[] = [];
  if (!options.tableName) issues.push('tableName is required');
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_MEMBERSHIP_TTL_MS) {
    issues.push(`ttlMs must be an integer from 0 to ${MAX_MEMBERSHIP_TTL_MS}, got ${ttl}`);
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    issues.push(`maxEntries must be a positive integer, got ${maxEntries}`);
  if (issues.length > 0) throw new AuthorizerConfigError(issues);

  const cache = createTtlCache<boolean>({ ttlMs: ttl, maxEntries, now });

  const load = async (tenantId: string, userId: string, role: string): Promise<boolean> => {
    const { Item } = await options.client.send(
      new GetCommand({
        TableName: options.tableName,
        Key: { PK: controlPk(tenantId), SK: memberSk(userId) },
        ProjectionExpression: '#role',
        ExpressionAttributeNames: { '#role': 'role' },
      }),
    );
    // The token's role must still be the member's role: a demoted admin loses admin within the bound.
    return Item !== undefined && Item.role === role;
  };

  return ({ tenantId, userId, role }) =>
    // JSON keeps the key unambiguous whatever characters the values hold.
    cache.get(JSON.stringify([tenantId, userId, role]), () => load(tenantId, userId, role));
}
