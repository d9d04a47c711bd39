/**
 * OpenID tokens shared by every environment of the authorizer (`SHARE_OPENID_TOKENS=on`, template
 * parameter ShareOpenIdTokens): one item per (user pool, user, tenant) in the single table, under a
 * partition no one but the authorizer may read or write — `AUTHZ#<sha256 of the provider's cache
 * key>`, which neither the tenant role (`TENANT#<t>`, `CONTROL#<t>`) nor any control-plane role
 * (`CONTROL#*`, `USER#*`) reaches (template.yaml, checked by the local stack's isolation proxy).
 *
 * Why: per-environment caches fragment at scale — API Gateway spreads a user's few authorizer calls
 * over as many warm environments, each mints its own token, and GetOpenIdTokenForDeveloperIdentity
 * (50/s per account by default) is the first quota hit (bench/internet-scale.ts). Shared, a token
 * minted once serves every environment for its lifetime.
 * The price: a bearer secret leaves the authorizer's memory for the table (encrypted at rest, expired
 * within `OpenIdTokenSeconds`; an item's `ttl` lets DynamoDB's TTL delete it after that). Whoever can
 * read these items can redeem them for that member's tenant credentials until they expire — the
 * authorizer's role, and the account's administrators. Off by default for that reason.
 */
import { createHash } from 'node:crypto';
import type { SharedOpenIdToken, SharedOpenIdTokens } from '../authorizer/index.js';
import type { DynamoJson } from './dynamodb-json.js';

/** The partition prefix of shared OpenID tokens (template.yaml grants it to the authorizer only). */
export const AUTHZ_PK_PREFIX = 'AUTHZ#';

/** The item key of `key` (the provider's cache key): fixed length, no user id in the clear. */
export const openIdTokenItemKey = (key: string) => ({
  PK: `${AUTHZ_PK_PREFIX}${createHash('sha256').update(key, 'utf8').digest('base64url')}`,
  SK: 'OPENID',
});

export function dynamoOpenIdTokens(options: {
  readonly call: DynamoJson;
  readonly tableName: string;
}): SharedOpenIdTokens {
  const { call, tableName } = options;
  const keyOf = (key: string) => {
    const { PK, SK } = openIdTokenItemKey(key);
    return { PK: { S: PK }, SK: { S: SK } };
  };
  return {
    async get(key, signal) {
      const answer = await call(
        'GetItem',
        {
          TableName: tableName,
          Key: keyOf(key),
          ProjectionExpression: 'identityId, #token, expiresAt',
          ExpressionAttributeNames: { '#token': 'token' },
        },
        signal,
      );
      const item = answer.Item as
        | { identityId?: { S?: string }; token?: { S?: string }; expiresAt?: { N?: string } }
        | undefined;
      if (item === undefined) return undefined;
      return {
        identityId: item.identityId?.S ?? '',
        token: item.token?.S ?? '',
        expiresAtMs: Number(item.expiresAt?.N),
      };
    },
    async put(key, token: SharedOpenIdToken) {
      await call('PutItem', {
        TableName: tableName,
        Item: {
          ...keyOf(key),
          identityId: { S: token.identityId },
          token: { S: token.token },
          expiresAt: { N: String(token.expiresAtMs) },
          // DynamoDB's TTL (seconds): gone a little after it stops being accepted anyway.
          ttl: { N: String(Math.ceil(token.expiresAtMs / 1000) + 60) },
        },
      });
    },
  };
}
