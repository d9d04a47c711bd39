/**
 * The authorizer's membership read: one GetItem of the membership item's `role`, through
 * sam/dynamodb-json.ts (no DynamoDB client in the authorizer's bundle). The answer is
 * `{"Item":{"role":{"S":…}}}`, or `{}` when there is no such item.
 */
import type { MembershipRoleReader } from '../tenants/index.js';
import type { DynamoJson } from './dynamodb-json.js';

export function dynamoMembershipReader(options: {
  readonly call: DynamoJson;
  readonly tableName: string;
}): MembershipRoleReader {
  return async (key) => {
    const answer = await options.call('GetItem', {
      TableName: options.tableName,
      Key: { PK: { S: key.PK }, SK: { S: key.SK } },
      ProjectionExpression: '#role',
      ExpressionAttributeNames: { '#role': 'role' },
    });
    return (answer.Item as { role?: { S?: unknown } } | undefined)?.role?.S;
  };
}
