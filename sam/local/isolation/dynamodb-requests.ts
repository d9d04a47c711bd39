/**
 * A DynamoDB API call → the IAM checks it needs: one (action, resource, leading keys) per table and
 * operation, as IAM authorizes DynamoDB. Batch calls are checked per table under the batch action;
 * transaction items each under their item action (TransactWriteItems has no action of its own).
 */

type Json = Record<string, unknown>;
type AttributeValue = { S?: string; N?: string; B?: string };

export interface AccessCheck {
  readonly action: string;
  readonly table: string;
  readonly index?: string;
  /** `dynamodb:LeadingKeys`: the partition key values the call touches (empty for a Scan). */
  readonly leadingKeys: readonly string[];
}

/** Partition key attribute of a table, or of one of its indexes. */
export type KeySchemaLookup = (table: string, index?: string) => Promise<string>;

const asObject = (v: unknown): Json =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
const scalar = (v: unknown): string | undefined => {
  const a = asObject(v) as AttributeValue;
  return a.S ?? a.N ?? a.B;
};

/**
 * A key we cannot find becomes `''`, never an empty set: `ForAllValues` over an empty set is true, so
 * a malformed call must not slip through as if it touched no partition.
 */
async function keyOf(item: unknown, table: string, schema: KeySchemaLookup): Promise<string[]> {
  return [scalar(asObject(item)[await schema(table)]) ?? ''];
}

/** The partition key value in a Query's key condition (`pk = :v`, `#pk = :v`, or KeyConditions). */
async function queryKeys(input: Json, schema: KeySchemaLookup): Promise<string[]> {
  const table = String(input.TableName);
  const index = typeof input.IndexName === 'string' ? input.IndexName : undefined;
  const pk = await schema(table, index);
  const legacy = asObject(asObject(input.KeyConditions)[pk]);
  if (Array.isArray(legacy.AttributeValueList)) {
    return [scalar(legacy.AttributeValueList[0]) ?? ''];
  }
  const names = asObject(input.ExpressionAttributeNames);
  const values = asObject(input.ExpressionAttributeValues);
  const expression = String(input.KeyConditionExpression ?? '');
  for (const m of expression.matchAll(/([#\w.]+)\s*=\s*(:[\w]+)|(:[\w]+)\s*=\s*([#\w.]+)/g)) {
    const name = m[1] ?? m[4] ?? '';
    const placeholder = m[2] ?? m[3] ?? '';
    const attribute = name.startsWith('#') ? names[name] : name;
    if (attribute === pk) return [scalar(values[placeholder]) ?? ''];
  }
  return [''];
}

const TRANSACT_WRITE: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

export async function accessChecks(
  operation: string,
  input: Json,
  schema: KeySchemaLookup,
): Promise<AccessCheck[]> {
  const table = String(input.TableName ?? '');
  switch (operation) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [
        {
          action: `dynamodb:${operation}`,
          table,
          leadingKeys: await keyOf(input.Key, table, schema),
        },
      ];
    case 'PutItem':
      return [
        { action: 'dynamodb:PutItem', table, leadingKeys: await keyOf(input.Item, table, schema) },
      ];
    case 'Query':
      return [
        {
          action: 'dynamodb:Query',
          table,
          ...(typeof input.IndexName === 'string' ? { index: input.IndexName } : {}),
          leadingKeys: await queryKeys(input, schema),
        },
      ];
    case 'Scan':
      return [{ action: 'dynamodb:Scan', table, leadingKeys: [] }];
    case 'BatchGetItem':
      return Promise.all(
        Object.entries(asObject(input.RequestItems)).map(async ([t, request]) => {
          const keys = (asObject(request).Keys as unknown[]) ?? [];
          return {
            action: 'dynamodb:BatchGetItem',
            table: t,
            leadingKeys: (await Promise.all(keys.map((k) => keyOf(k, t, schema)))).flat(),
          };
        }),
      );
    case 'BatchWriteItem':
      return Promise.all(
        Object.entries(asObject(input.RequestItems)).map(async ([t, requests]) => {
          const keys = await Promise.all(
            ((requests as unknown[]) ?? []).map((r) => {
              const o = asObject(r);
              return keyOf(asObject(o.PutRequest).Item ?? asObject(o.DeleteRequest).Key, t, schema);
            }),
          );
          return { action: 'dynamodb:BatchWriteItem', table: t, leadingKeys: keys.flat() };
        }),
      );
    case 'TransactWriteItems':
      return Promise.all(
        ((input.TransactItems as unknown[]) ?? []).map(async (item) => {
          const [kind = '', body] = Object.entries(asObject(item))[0] ?? [];
          const b = asObject(body);
          const t = String(b.TableName ?? '');
          return {
            action: TRANSACT_WRITE[kind] ?? `dynamodb:${kind}`,
            table: t,
            leadingKeys: await keyOf(b.Item ?? b.Key, t, schema),
          };
        }),
      );
    case 'TransactGetItems':
      return Promise.all(
        ((input.TransactItems as unknown[]) ?? []).map(async (item) => {
          const b = asObject(asObject(item).Get);
          const t = String(b.TableName ?? '');
          return {
            action: 'dynamodb:GetItem',
            table: t,
            leadingKeys: await keyOf(b.Key, t, schema),
          };
        }),
      );
    default:
      return [{ action: `dynamodb:${operation}`, table, leadingKeys: [] }];
  }
}
