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
import type { TenantContext } from '../authorizer/index.js';
import { grantingPatterns } from '../policy/index.js';
import {
  ConflictError,
  PermissionDeniedError,
  TenantsConfigError,
  WriteConditionError,
} from './errors.js';
import { controlPk, roleSk } from './keys.js';
import { tableOptionIssues } from './query-all.js';

/** One item of a `TransactWriteCommand` (lib-dynamodb): `Put`, `Update`, `Delete` or `ConditionCheck`. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What a {@link GuardedWrite} commits: writes, and the permission they need. */
export interface GuardedWriteRequest {
  /** The caller's active tenant (`ctx.tenantId`). */
  readonly tenantId: string;
  /** The caller's role (`ctx.role`). */
  readonly roleId: string;
  /** The action the role must permit, e.g. `aircraft:update`. */
  readonly action: string;
  /** The caller's writes (Put, Update, Delete, ConditionCheck), at most 99: the check takes one slot. */
  readonly writes: readonly TransactItem[];
  /**
   * Pin the caller's role item at this version: for decisions made on the role's whole content (a
   * coverage check), which must not stand if the role changed before the write.
   */
  readonly roleVersion?: number;
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
  roleVersion?: number,
): TransactItem {
  const patterns = grantingPatterns(action); // ≤ 9 for 3 segments: well inside expression limits
  const values: Record<string, string | number> = { ':list': 'L' };
  if (roleVersion !== undefined) values[':version'] = roleVersion;
  const names = patterns.map((p, i) => {
    values[`:g${i}`] = p;
    return `:g${i}`;
  });
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: { PK: controlPk(tenantId), SK: roleSk(roleId) },
      ConditionExpression: [
        'attribute_exists(PK)',
        'attribute_type(#allow, :list)',
        '(attribute_not_exists(#deny) OR attribute_type(#deny, :list))',
        `(${names.map((n) => `contains(#allow, ${n})`).join(' OR ')})`,
        ...names.map((n) => `NOT contains(#deny, ${n})`),
        ...(roleVersion === undefined ? [] : ['#version = :version']),
      ].join(' AND '),
      ExpressionAttributeNames: {
        '#allow': 'allow',
        '#deny': 'deny',
        ...(roleVersion === undefined ? {} : { '#version': 'version' }),
      },
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

/** Whether the role item (raw attribute values) grants `action`: the condition, evaluated here. */
export function roleItemPermits(action: string, item: Record<string, AttributeValue> | undefined) {
  if (item === undefined) return false;
  const allow = strings(item.allow);
  const deny = item.deny === undefined ? [] : strings(item.deny);
  if (allow === undefined || deny === undefined) return false;
  const patterns = grantingPatterns(action);
  return patterns.some((p) => allow.includes(p)) && !patterns.some((p) => deny.includes(p));
}

/** The check's whole condition, evaluated here on the item as it was: the action and the pin. */
const permitsAtPin = (
  request: GuardedWriteRequest,
  item: Record<string, AttributeValue> | undefined,
) =>
  roleItemPermits(request.action, item) &&
  (request.roleVersion === undefined || item?.version?.N === String(request.roleVersion));

/** Options of {@link createGuardedWriter}. */
export interface GuardedWriterOptions {
  /** A client signed with the caller's tenant-scoped credentials (`tenantDynamoClient(ctx)`). */
  readonly client: DynamoDBDocumentClient;
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
}

/**
 * One `TransactWriteItems`: the role check and the writes, all or nothing.
 * @throws PermissionDeniedError when the role does not permit the action; WriteConditionError when
 * one of the writes' own conditions failed.
 */
export type GuardedWrite = (request: GuardedWriteRequest) => Promise<void>;

interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, AttributeValue>;
}

type Operation = 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
const OPERATIONS: readonly Operation[] = ['Put', 'Update', 'Delete', 'ConditionCheck'];

interface WriteBody {
  TableName?: string;
  Key?: Record<string, unknown>;
  Item?: Record<string, unknown>;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
  ReturnValuesOnConditionCheckFailure?: string;
}

const bodyOf = (item: TransactItem): [Operation, WriteBody] | undefined => {
  for (const op of OPERATIONS) {
    const body = (item as Record<string, WriteBody | undefined>)[op];
    if (body) return [op, body];
  }
  return undefined;
};

/**
 * DynamoDB refuses a transaction that names one item twice (ValidationException). An admin inviting
 * another admin writes the `admin` role item (its assignment count) while the check reads it, so a
 * write on the check's own item carries the check's condition instead, ANDed into its own, with the
 * check's placeholders renamed so they cannot collide with the caller's.
 */
function mergeCheck(check: TransactItem, write: TransactItem): TransactItem {
  const c = check.ConditionCheck as WriteBody;
  const [op, body] = bodyOf(write) as [Operation, WriteBody];
  const rename = (expr: string) => expr.replace(/([:#])(\w+)/g, '$1tg_$2');
  const prefixed = <V>(record: Record<string, V> | undefined) =>
    Object.fromEntries(Object.entries(record ?? {}).map(([k, v]) => [rename(k), v]));
  const own = body.ConditionExpression;
  return {
    [op]: {
      ...body,
      ConditionExpression: `${own ? `(${own}) AND ` : ''}(${rename(c.ConditionExpression ?? '')})`,
      ExpressionAttributeNames: {
        ...body.ExpressionAttributeNames,
        ...prefixed(c.ExpressionAttributeNames),
      },
      ExpressionAttributeValues: {
        ...body.ExpressionAttributeValues,
        ...prefixed(c.ExpressionAttributeValues),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  } as TransactItem;
}

const sameKey = (a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined) =>
  a !== undefined && b !== undefined && a.PK === b.PK && a.SK === b.SK;

/**
 * @returns `guardedWrite`, which rejects with `PermissionDeniedError` naming the action and the reason
 * (`unknown-role`, `explicit-deny` with its pattern, `no-match`, `invalid-role`) when the role check
 * fails — nothing is written; with `WriteConditionError` naming which of the caller's writes failed
 * their own condition (with the item as it was, where the write asked for `ALL_OLD`). Other
 * cancellations (a transaction conflict) and errors surface as they are.
 * @throws TenantsConfigError for invalid options.
 */
export function createGuardedWriter(options: GuardedWriterOptions): GuardedWrite {
  const issues: string[] = [];
  tableOptionIssues(options, issues);
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { client, tableName } = options;
  return (request) => runGuardedWrite(client, tableName, request);
}

/** What a tenant service passes per call: the caller (tenant, role, credentials) and the writes. */
export type TenantGuardedWrite = (
  ctx: TenantContext,
  action: string,
  writes: readonly TransactItem[],
  options?: { readonly roleVersion?: number },
) => Promise<void>;

/**
 * `guardedWrite` for services that act as the caller: the tenant and role come from the caller's
 * context and the client from `clientFor(ctx)` (default: the caller's tenant-scoped credentials).
 * Validated here, once, not per request.
 * @throws TenantsConfigError for invalid options.
 */
export function createTenantGuardedWriter(options: {
  readonly tableName: string;
  readonly clientFor: (ctx: TenantContext) => DynamoDBDocumentClient;
}): TenantGuardedWrite {
  const issues: string[] = [];
  tableOptionIssues(options, issues, false);
  if (typeof options?.clientFor !== 'function') issues.push('clientFor must be a function');
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { tableName, clientFor } = options;
  return (ctx, action, writes, pin) =>
    runGuardedWrite(clientFor(ctx), tableName, {
      tenantId: ctx.tenantId,
      roleId: ctx.role,
      action,
      writes,
      ...(pin?.roleVersion === undefined ? {} : { roleVersion: pin.roleVersion }),
    });
}

async function runGuardedWrite(
  client: DynamoDBDocumentClient,
  tableName: string,
  request: GuardedWriteRequest,
): Promise<void> {
  if (request.writes.length === 0 || request.writes.length > MAX_GUARDED_WRITES) {
    throw new RangeError(
      `a guarded write takes 1 to ${MAX_GUARDED_WRITES} writes, got ${request.writes.length}`,
    );
  }
  const check = permissionCheck(
    tableName,
    request.tenantId,
    request.roleId,
    request.action,
    request.roleVersion,
  );
  const checkKey = check.ConditionCheck?.Key;
  const merged = request.writes.findIndex((w) => {
    const body = bodyOf(w)?.[1];
    const key = body?.Key ?? body?.Item;
    return body?.TableName === tableName && sameKey(key, checkKey);
  });
  const items =
    merged < 0
      ? [check, ...request.writes]
      : request.writes.map((w, i) => (i === merged ? mergeCheck(check, w) : w));
  const offset = merged < 0 ? 1 : 0;
  try {
    await client.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    const reasons = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons;
    if ((error as Error).name !== 'TransactionCanceledException' || !reasons) throw error;
    const denied = (item: Record<string, AttributeValue> | undefined) => {
      // Permitted, but not at the pinned version: the decision was made on a role since edited.
      if (
        request.roleVersion !== undefined &&
        roleItemPermits(request.action, item) &&
        item?.version?.N !== String(request.roleVersion)
      ) {
        return new ConflictError(
          'role-changed',
          `your role ${request.roleId} changed meanwhile; retry`,
          { cause: error },
        );
      }
      const { reason, matched } = deniedBecause(request.action, item);
      return new PermissionDeniedError(request.action, reason, { matched, cause: error });
    };
    if (offset === 1 && reasons[0]?.Code === 'ConditionalCheckFailed')
      throw denied(reasons[0].Item);
    const failed: { index: number; item?: Record<string, AttributeValue> }[] = [];
    reasons.forEach((r, i) => {
      if (r.Code === 'ConditionalCheckFailed' && i >= offset)
        failed.push({ index: i - offset, ...(r.Item ? { item: r.Item } : {}) });
    });
    if (failed.length === 0) throw error;
    // On the merged write a failure is either the permission or its own condition: the item as it
    // was tells which.
    const onRole = failed.find((f) => f.index === merged);
    if (onRole && !permitsAtPin(request, onRole.item)) throw denied(onRole.item);
    throw new WriteConditionError(failed, { cause: error });
  }
}
