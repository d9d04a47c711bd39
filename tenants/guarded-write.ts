/**
 * Guarded writes: the permission check and the writes in ONE TransactWriteItems. A ConditionCheck on
 * the caller's role item (it exists, `allow` holds a pattern granting the action, `deny` holds none)
 * travels with the writes, so a role edited between check and write can never let a write through:
 * DynamoDB commits all or nothing.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { grantingPatterns } from '../policy/index.js';
import { PermissionDeniedError, TenantsConfigError } from './errors.js';
import { roleSk, tenantPk } from './keys.js';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface GuardedWriteRequest {
  readonly tenantId: string;
  /** The caller's role (`ctx.role`). */
  readonly roleId: string;
  readonly action: string;
  /** The caller's writes (Put, Update, Delete, ConditionCheck), at most 99: the check takes one slot. */
  readonly writes: readonly TransactItem[];
}

/** DynamoDB allows 100 items per transaction; the permission check takes one. */
export const MAX_GUARDED_WRITES = 99;

/**
 * The ConditionCheck item that holds only if `roleId` in `tenantId` permits `action`.
 *
 * `allow` and `deny` are stored as Lists (see `roleItem`). The condition insists on that type: on a
 * String, `contains` is a substring test, so an `allow` of `"aircraft:update-all"` would grant
 * `aircraft:update` (checked against DynamoDB Local); and on a Map or Number `contains` is false, so a
 * `deny` of the wrong type would be silently ignored. A missing `deny` means no denies.
 *
 * @throws PolicyValidationError when `action` is malformed (a programming error at the call site).
 */
export function permissionCheck(
  tableName: string,
  tenantId: string,
  roleId: string,
  action: string,
): TransactItem {
  const patterns = grantingPatterns(action); // ≤ 9 for 3 segments: well inside expression limits
  const values: Record<string, string> = { ':list': 'L' };
  const names = patterns.map((p, i) => {
    values[`:g${i}`] = p;
    return `:g${i}`;
  });
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: { PK: tenantPk(tenantId), SK: roleSk(roleId) },
      ConditionExpression: [
        'attribute_exists(PK)',
        'attribute_type(#allow, :list)',
        '(attribute_not_exists(#deny) OR attribute_type(#deny, :list))',
        `(${names.map((n) => `contains(#allow, ${n})`).join(' OR ')})`,
        ...names.map((n) => `NOT contains(#deny, ${n})`),
      ].join(' AND '),
      ExpressionAttributeNames: { '#allow': 'allow', '#deny': 'deny' },
      ExpressionAttributeValues: values,
      // On failure DynamoDB hands back the role item exactly as the check saw it, so the 403 can name
      // the reason without a second read that might see a newer version. Costs nothing on success.
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

const strings = (value: AttributeValue | undefined): string[] | undefined =>
  value?.L?.every((v) => typeof v.S === 'string') ? value.L.map((v) => v.S as string) : undefined;

/**
 * The reason a failed check failed, from the role item it saw (raw attribute values: the document
 * client does not unmarshal errors). Same order as `evaluate`: a deny, most specific first, wins.
 */
export function deniedBecause(
  action: string,
  item: Record<string, AttributeValue> | undefined,
): { reason: PermissionDeniedError['reason']; matched?: string } {
  if (item === undefined) return { reason: 'unknown-role' };
  const allow = strings(item.allow);
  const deny = item.deny === undefined ? [] : strings(item.deny);
  if (allow === undefined || deny === undefined) return { reason: 'invalid-role' };
  const denied = grantingPatterns(action).find((p) => deny.includes(p));
  return denied === undefined
    ? { reason: 'no-match' }
    : { reason: 'explicit-deny', matched: denied };
}

export interface GuardedWriterOptions {
  /** A client signed with the caller's tenant-scoped credentials (`tenantDynamoClient(ctx)`). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

export type GuardedWrite = (request: GuardedWriteRequest) => Promise<void>;

interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, AttributeValue>;
}

/**
 * @returns `guardedWrite`, which rejects with `PermissionDeniedError` naming the action and the reason
 * (`unknown-role`, `explicit-deny` with its pattern, `no-match`, `invalid-role`) when the role check
 * fails — nothing is written. Other cancellations (a caller's own condition, a transaction conflict)
 * and errors surface as they are.
 * @throws TenantsConfigError for invalid options.
 */
export function createGuardedWriter(options: GuardedWriterOptions): GuardedWrite {
  const issues: string[] = [];
  if (typeof options?.client?.send !== 'function') issues.push('client must be a DynamoDB client');
  if (typeof options?.tableName !== 'string' || options.tableName === '')
    issues.push('tableName must be a non-empty string');
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { client, tableName } = options;

  return async function guardedWrite(request) {
    if (request.writes.length === 0 || request.writes.length > MAX_GUARDED_WRITES) {
      throw new RangeError(
        `a guarded write takes 1 to ${MAX_GUARDED_WRITES} writes, got ${request.writes.length}`,
      );
    }
    const check = permissionCheck(tableName, request.tenantId, request.roleId, request.action);
    try {
      await client.send(new TransactWriteCommand({ TransactItems: [check, ...request.writes] }));
    } catch (error) {
      const first = (error as { CancellationReasons?: CancellationReason[] })
        .CancellationReasons?.[0];
      if (
        (error as Error).name === 'TransactionCanceledException' &&
        first?.Code === 'ConditionalCheckFailed'
      ) {
        const { reason, matched } = deniedBecause(request.action, first.Item);
        throw new PermissionDeniedError(request.action, reason, { matched, cause: error });
      }
      throw error;
    }
  };
}
