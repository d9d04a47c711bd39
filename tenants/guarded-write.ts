/**
 * Guarded writes: the permission check and the writes in ONE TransactWriteItems. A ConditionCheck on
 * the caller's role item (it exists, `allow` holds a pattern granting the action, `deny` holds none)
 * travels with the writes, so a role edited between check and write can never let a write through:
 * DynamoDB commits all or nothing.
 */
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { grantingPatterns } from '../policy/index.js';
import { PermissionDeniedError } from './errors.js';
import { roleSk, tenantPk } from './keys.js';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface GuardedWriteRequest {
  readonly tenantId: string;
  readonly roleId: string;
  readonly action: string;
  /** The caller's writes (Put, Update, Delete, ConditionCheck), at most 99: the check takes one slot. */
  readonly writes: readonly TransactItem[];
}

/** DynamoDB allows 100 items per transaction. */
export const MAX_GUARDED_WRITES = 99;

/** The ConditionCheck item that holds only if `roleId` in `tenantId` permits `action`. */
export function permissionCheck(
  tableName: string,
  tenantId: string,
  roleId: string,
  action: string,
): TransactItem {
  const patterns = grantingPatterns(action); // ≤ 9 for 3 segments: well inside expression limits
  const values: Record<string, string> = {};
  patterns.forEach((p, i) => {
    values[`:g${i}`] = p;
  });
  const names = Object.keys(values);
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: { PK: tenantPk(tenantId), SK: roleSk(roleId) },
      ConditionExpression: [
        'attribute_exists(PK)',
        `(${names.map((n) => `contains(#allow, ${n})`).join(' OR ')})`,
        ...names.map((n) => `NOT contains(#deny, ${n})`),
      ].join(' AND '),
      ExpressionAttributeNames: { '#allow': 'allow', '#deny': 'deny' },
      ExpressionAttributeValues: values,
    },
  };
}

export interface GuardedWriterOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/**
 * @returns `guardedWrite`, which rejects with `PermissionDeniedError` naming the action when the role
 * check fails (nothing is written); other cancellations and errors surface as they are.
 */
export function createGuardedWriter({ client, tableName }: GuardedWriterOptions) {
  return async function guardedWrite(request: GuardedWriteRequest): Promise<void> {
    if (request.writes.length === 0 || request.writes.length > MAX_GUARDED_WRITES) {
      throw new RangeError(
        `a guarded write takes 1 to ${MAX_GUARDED_WRITES} writes, got ${request.writes.length}`,
      );
    }
    const check = permissionCheck(tableName, request.tenantId, request.roleId, request.action);
    try {
      await client.send(new TransactWriteCommand({ TransactItems: [check, ...request.writes] }));
    } catch (error) {
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if (
        (error as Error).name === 'TransactionCanceledException' &&
        reasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        throw new PermissionDeniedError(request.action, 'denied', { cause: error });
      }
      throw error;
    }
  };
}
