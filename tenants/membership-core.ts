/**
 * The membership check's cache and rule, over any reader of a membership item's role: the member must
 * still hold the role the token claims. A module apart from membership-check.ts so that it imports no
 * AWS SDK: the authorizer's bundle reads the item with a GetItem of its own and stays at the dependency
 * floor (aws-jwt-verify and the Cognito Identity client).
 */
import { AuthorizerConfigError, type Clock, type MembershipCheck } from '../authorizer/index.js';
import { controlPk, memberSk } from './keys.js';
import { createTtlCache } from './ttl-cache.js';

/** The longest a removed member keeps access through this check's cache. */
export const MAX_MEMBERSHIP_TTL_MS = 60_000;

/** The key of a membership item, as stored. */
export interface MembershipKey {
  readonly PK: string;
  readonly SK: string;
}

/**
 * Reads the `role` attribute of the membership item under `key`: its value, or `undefined` when there
 * is no such item. A throw is an infrastructure failure (the authorizer answers 500).
 */
export type MembershipRoleReader = (key: MembershipKey) => Promise<unknown>;

/** Cache options of a membership check. */
export interface MembershipCacheOptions {
  /** The single table of template.yaml; only checked to be named (the reader knows where to read). */
  readonly tableName: string;
  /** How long an answer is reused. Default and maximum 60 000 ms: the documented revocation bound. */
  readonly ttlMs?: number;
  /** Cache bound. Default 10 000 entries. */
  readonly maxEntries?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: Clock;
}

/**
 * A membership check over `readRole`, its answers cached per (tenant, user, role) for `ttlMs`.
 * @throws AuthorizerConfigError for invalid options.
 */
export function createMembershipCheckWith(
  readRole: MembershipRoleReader,
  options: MembershipCacheOptions,
): MembershipCheck {
  const ttl = options.ttlMs ?? MAX_MEMBERSHIP_TTL_MS;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const issues: string[] = [];
  if (!options.tableName) issues.push('tableName is required');
  if (typeof readRole !== 'function') issues.push('readRole must be a function');
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_MEMBERSHIP_TTL_MS) {
    issues.push(`ttlMs must be an integer from 0 to ${MAX_MEMBERSHIP_TTL_MS}, got ${ttl}`);
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    issues.push(`maxEntries must be a positive integer, got ${maxEntries}`);
  if (issues.length > 0) throw new AuthorizerConfigError(issues);

  const cache = createTtlCache<boolean>({ ttlMs: ttl, maxEntries, now });

  // The token's role must still be the member's role: a demoted admin loses admin within the bound.
  const load = async (tenantId: string, userId: string, role: string): Promise<boolean> =>
    (await readRole({ PK: controlPk(tenantId), SK: memberSk(userId) })) === role;

  return ({ tenantId, userId, role }) =>
    // JSON keeps the key unambiguous whatever characters the values hold.
    cache.get(JSON.stringify([tenantId, userId, role]), () => load(tenantId, userId, role));
}
