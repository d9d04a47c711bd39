/**
 * What IAM checks a DynamoDB API call needs: the awsJson1_0 request (`X-Amz-Target:
 * DynamoDB_20120810.<Op>` and its JSON body) → one (action, resource, `dynamodb:LeadingKeys`) per
 * authorization IAM makes:
 *
 * - GetItem, PutItem, UpdateItem, DeleteItem: their action on the table; the partition key of `Key`
 *   (`Item` for PutItem).
 * - BatchGetItem, BatchWriteItem: the batch action once per table, with every key of that table.
 * - TransactWriteItems: each item under its item action (PutItem, UpdateItem, DeleteItem,
 *   ConditionCheckItem) — the operation has no IAM action of its own. TransactGetItems: GetItem each.
 * - Query: the table or `/index/<I>`; the partition key's equality value from KeyConditionExpression
 *   (placeholders resolved) and/or the legacy KeyConditions.
 * - Scan: the table or index, and NO leading keys: the key is absent from the request context.
 * - PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction): `PartiQL<Verb>` on the
 *   table; statements are not parsed for keys, so the leading keys stay undetermined (refused).
 * - Anything else: `dynamodb:<Op>` on the table, ARN or `*` the body names, without leading keys.
 *
 * Fail closed: a key we cannot read with certainty (absent, not exactly one S/N/B value, a partition
 * key the expression does not compare with `=`) never becomes an empty set — `ForAllValues` over an
 * empty set is true — but an `undetermined` reason the proxy refuses whatever the policy says. JSON
 * bodies with duplicate member names are refused too: we and DynamoDB Local might read different keys.
 */
import { KeySchemaUnavailableError, RequestRejectedError } from './errors.js';

export const DYNAMODB_TARGET_PREFIX = 'DynamoDB_20120810.';

export interface TableKeySchema {
  /** The table's partition (HASH) key attribute. */
  readonly partitionKey: string;
  /** Partition key attribute of each global or local secondary index, by index name. */
  readonly indexes?: Readonly<Record<string, string>>;
}

/**
 * The key schema of a table by name; `undefined` when the table does not exist. Throws (any error)
 * when it cannot be read: the call is then not authorized.
 */
export type KeySchemaLookup = (
  table: string,
) => Promise<TableKeySchema | undefined> | TableKeySchema | undefined;

export interface AccessCheck {
  /** The IAM action, e.g. `dynamodb:GetItem`. */
  readonly action: string;
  /** The table or index ARN, another resource ARN, or `*`. */
  readonly resource: string;
  /**
   * `dynamodb:LeadingKeys`: the partition key values touched. Undefined when the call has none
   * (Scan, DescribeTable): the condition key is then absent from the request context.
   */
  readonly leadingKeys?: readonly string[];
  /** Why the leading keys could not be determined with certainty; the check is then refused. */
  readonly undetermined?: string;
}

export interface RequestAnalysisOptions {
  readonly region: string;
  readonly accountId: string;
  readonly keySchema: KeySchemaLookup;
}

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Json, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);

/** The operation of an `X-Amz-Target` header, or undefined when it is not a DynamoDB target. */
export function parseTarget(header: string | readonly string[] | undefined): string | undefined {
  if (typeof header !== 'string' || !header.startsWith(DYNAMODB_TARGET_PREFIX)) return undefined;
  const operation = header.slice(DYNAMODB_TARGET_PREFIX.length);
  return /^[A-Za-z]+$/.test(operation) ? operation : undefined;
}

/**
 * Parse an awsJson1_0 body: a JSON object without duplicate member names (`JSON.parse` keeps the last
 * of two `"Key"`s; a Java parser need not). Throws `RequestRejectedError` (SerializationException).
 */
export function parseRequestBody(body: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(body === '' ? '{}' : body);
  } catch (error) {
    throw new RequestRejectedError('SerializationException', 'the request body is not JSON', {
      cause: error,
    });
  }
  if (!isRecord(value))
    throw new RequestRejectedError('SerializationException', 'the request body is not an object');
  if (memberNamesInSource(body) !== memberCount(value))
    throw new RequestRejectedError(
      'SerializationException',
      'the request body repeats a member name; the isolation proxy refuses ambiguous JSON',
    );
  return value;
}

/** Object member names in valid JSON text: strings followed by `:`. */
function memberNamesInSource(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '"') continue;
    let end = i + 1;
    while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
    let next = end + 1;
    while (next < text.length && /\s/.test(text[next] ?? '')) next++;
    if (text[next] === ':') count++;
    i = end;
  }
  return count;
}

function memberCount(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + memberCount(v), 0);
  if (!isRecord(value)) return 0;
  return Object.values(value).reduce((n: number, v) => n + 1 + memberCount(v), 0);
}

// ---------------------------------------------------------------------------------------------

type KeyRead = { readonly value: string } | { readonly problem: string };

/** A partition key value: exactly one S, N or B member holding a string. */
function scalar(attributeValue: unknown, what: string): KeyRead {
  if (!isRecord(attributeValue)) return { problem: `${what} is not an attribute value` };
  const types = Object.keys(attributeValue);
  const type = types[0];
  const value = type === undefined ? undefined : attributeValue[type];
  if (types.length !== 1 || !['S', 'N', 'B'].includes(type ?? '') || typeof value !== 'string')
    return { problem: `${what} is not exactly one S, N or B value` };
  return { value };
}

function keyOf(item: unknown, partitionKey: string, what: string): KeyRead {
  if (!isRecord(item)) return { problem: `${what} is missing` };
  if (!Object.hasOwn(item, partitionKey))
    return { problem: `${what} has no partition key attribute ${partitionKey}` };
  return scalar(item[partitionKey], `${what}.${partitionKey}`);
}

/** Several key reads → the check's leading keys, or the first reason they are undetermined. */
function collect(reads: readonly KeyRead[]): Pick<AccessCheck, 'leadingKeys' | 'undetermined'> {
  const problem = reads.find((r): r is { problem: string } => 'problem' in r);
  if (problem) return { undetermined: problem.problem };
  return {
    leadingKeys: [...new Set(reads.map((r) => (r as { value: string }).value))],
  };
}

// KeyConditionExpression tokens; anything else (paths, functions on the key) is not a key equality.
const EXPRESSION_TOKEN =
  /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(<>|<=|>=|[=<>(),]))/y;

type ExprToken = { kind: 'name' | 'value' | 'operator'; text: string };

function tokenizeExpression(expression: string): ExprToken[] | undefined {
  const tokens: ExprToken[] = [];
  EXPRESSION_TOKEN.lastIndex = 0;
  while (EXPRESSION_TOKEN.lastIndex < expression.length) {
    if (/^\s*$/.test(expression.slice(EXPRESSION_TOKEN.lastIndex))) break;
    const m = EXPRESSION_TOKEN.exec(expression);
    if (!m) return undefined;
    if (m[2]) tokens.push({ kind: 'value', text: m[2] });
    else if (m[4]) tokens.push({ kind: 'operator', text: m[4] });
    else tokens.push({ kind: 'name', text: m[1] ?? m[3] ?? '' });
  }
  return tokens;
}

/** Every equality value of the partition key in a Query, from either (or both) condition forms. */
function queryKeys(input: Json, partitionKey: string): KeyRead[] {
  const reads: KeyRead[] = [];
  const legacy = own(input, 'KeyConditions');
  if (legacy !== undefined) {
    if (!isRecord(legacy)) return [{ problem: 'KeyConditions is not a map' }];
    const condition = own(legacy, partitionKey);
    if (condition !== undefined) {
      const list = isRecord(condition) ? own(condition, 'AttributeValueList') : undefined;
      if (
        !isRecord(condition) ||
        own(condition, 'ComparisonOperator') !== 'EQ' ||
        !Array.isArray(list) ||
        list.length !== 1
      )
        return [{ problem: `KeyConditions.${partitionKey} is not EQ with one value` }];
      reads.push(scalar(list[0], `KeyConditions.${partitionKey}`));
    }
  }
  const expression = own(input, 'KeyConditionExpression');
  if (expression !== undefined) {
    const tokens = typeof expression === 'string' ? tokenizeExpression(expression) : undefined;
    if (!tokens) return [{ problem: 'KeyConditionExpression could not be read' }];
    const names = own(input, 'ExpressionAttributeNames');
    const values = own(input, 'ExpressionAttributeValues');
    const nameOf = (t: ExprToken | undefined) =>
      t?.kind !== 'name' ? undefined : t.text.startsWith('#') ? namesGet(names, t.text) : t.text;
    tokens.forEach((token, i) => {
      if (nameOf(token) !== partitionKey) return;
      const operand = (op: ExprToken | undefined, v: ExprToken | undefined) =>
        op?.text === '=' && v?.kind === 'value' ? v : undefined;
      const value = operand(tokens[i + 1], tokens[i + 2]) ?? operand(tokens[i - 1], tokens[i - 2]);
      if (!value) {
        reads.push({
          problem: `the partition key ${partitionKey} is not compared with = to a value`,
        });
        return;
      }
      const attributeValue = isRecord(values) ? own(values, value.text) : undefined;
      reads.push(scalar(attributeValue, `ExpressionAttributeValues ${value.text}`));
    });
  }
  if (reads.length === 0) reads.push({ problem: `no equality condition on ${partitionKey}` });
  return reads;
}

const namesGet = (names: unknown, placeholder: string): unknown =>
  isRecord(names) ? own(names, placeholder) : undefined;

// ---------------------------------------------------------------------------------------------

const TRANSACT_WRITE_ACTIONS: Readonly<Record<string, readonly [action: string, key: string]>> = {
  Put: ['dynamodb:PutItem', 'Item'],
  Update: ['dynamodb:UpdateItem', 'Key'],
  Delete: ['dynamodb:DeleteItem', 'Key'],
  ConditionCheck: ['dynamodb:ConditionCheckItem', 'Key'],
};

const PARTIQL_ACTIONS: Readonly<Record<string, string>> = {
  select: 'dynamodb:PartiQLSelect',
  exists: 'dynamodb:PartiQLSelect',
  insert: 'dynamodb:PartiQLInsert',
  update: 'dynamodb:PartiQLUpdate',
  delete: 'dynamodb:PartiQLDelete',
};

const invalid = (message: string) => new RequestRejectedError('ValidationException', message);
const required = (name: string) =>
  invalid(`The parameter '${name}' is required but was not present in the request`);

/**
 * The IAM checks of one DynamoDB call. Throws `RequestRejectedError` for calls DynamoDB itself would
 * reject before touching data (a missing table, index or required member), and rethrows what
 * `keySchema` throws as `KeySchemaUnavailableError`.
 */
export async function analyzeRequest(
  operation: string,
  input: Json,
  options: RequestAnalysisOptions,
): Promise<AccessCheck[]> {
  const tableArn = (table: string) =>
    `arn:aws:dynamodb:${options.region}:${options.accountId}:table/${table}`;
  /** A table named by name or by ARN (DynamoDB accepts both). */
  const tableRef = (value: unknown, member: string) => {
    if (typeof value !== 'string' || value === '') throw required(member);
    if (!value.startsWith('arn:')) return { table: value, resource: tableArn(value) };
    const name = /^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/([^/]+)$/.exec(value)?.[1];
    if (!name) throw invalid(`${member} is not a table name or table ARN`);
    return { table: name, resource: value };
  };
  const schemas = new Map<string, Promise<TableKeySchema>>();
  const schemaOf = (table: string) => {
    let found = schemas.get(table);
    if (!found) {
      found = (async () => {
        let schema: TableKeySchema | undefined;
        try {
          schema = await options.keySchema(table);
        } catch (error) {
          throw new KeySchemaUnavailableError(table, { cause: error });
        }
        if (!schema)
          throw new RequestRejectedError(
            'ResourceNotFoundException',
            'Cannot do operations on a non-existent table',
          );
        return schema;
      })();
      schemas.set(table, found);
    }
    return found;
  };
  const items = (value: unknown, member: string): unknown[] => {
    if (!Array.isArray(value) || value.length === 0) throw required(member);
    return value;
  };
  const tables = (value: unknown, member: string): [string, unknown][] => {
    if (!isRecord(value) || Object.keys(value).length === 0) throw required(member);
    return Object.entries(value);
  };

  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
    case 'PutItem': {
      const ref = tableRef(own(input, 'TableName'), 'TableName');
      const { partitionKey } = await schemaOf(ref.table);
      const member = operation === 'PutItem' ? 'Item' : 'Key';
      return [
        {
          action: `dynamodb:${operation}`,
          resource: ref.resource,
          ...collect([keyOf(own(input, member), partitionKey, member)]),
        },
      ];
    }
    case 'Query': {
      const ref = tableRef(own(input, 'TableName'), 'TableName');
      const index = own(input, 'IndexName');
      if (index !== undefined && (typeof index !== 'string' || index === ''))
        throw invalid('IndexName is not a string');
      const schema = await schemaOf(ref.table);
      const partitionKey = index === undefined ? schema.partitionKey : schema.indexes?.[index];
      if (
        partitionKey === undefined ||
        (index !== undefined && !Object.hasOwn(schema.indexes ?? {}, index))
      )
        throw invalid(`The table does not have the specified index: ${String(index)}`);
      return [
        {
          action: 'dynamodb:Query',
          resource: index === undefined ? ref.resource : `${ref.resource}/index/${index}`,
          ...collect(queryKeys(input, partitionKey)),
        },
      ];
    }
    case 'Scan': {
      const ref = tableRef(own(input, 'TableName'), 'TableName');
      const index = own(input, 'IndexName');
      return [
        {
          action: 'dynamodb:Scan',
          resource: typeof index === 'string' ? `${ref.resource}/index/${index}` : ref.resource,
        },
      ];
    }
    case 'BatchGetItem':
      return Promise.all(
        tables(own(input, 'RequestItems'), 'RequestItems').map(async ([name, request]) => {
          const ref = tableRef(name, 'RequestItems');
          const { partitionKey } = await schemaOf(ref.table);
          const keys = items(isRecord(request) ? own(request, 'Keys') : undefined, 'Keys');
          return {
            action: 'dynamodb:BatchGetItem',
            resource: ref.resource,
            ...collect(keys.map((k, i) => keyOf(k, partitionKey, `Keys[${i}]`))),
          };
        }),
      );
    case 'BatchWriteItem':
      return Promise.all(
        tables(own(input, 'RequestItems'), 'RequestItems').map(async ([name, requests]) => {
          const ref = tableRef(name, 'RequestItems');
          const { partitionKey } = await schemaOf(ref.table);
          const reads = items(requests, `RequestItems.${name}`).map((r, i): KeyRead => {
            const kinds = isRecord(r) ? Object.keys(r) : [];
            const request = isRecord(r) ? r[kinds[0] ?? ''] : undefined;
            if (kinds.length !== 1 || !isRecord(request))
              return {
                problem: `write request ${i} is not exactly one PutRequest or DeleteRequest`,
              };
            if (kinds[0] === 'PutRequest') return keyOf(own(request, 'Item'), partitionKey, 'Item');
            if (kinds[0] === 'DeleteRequest')
              return keyOf(own(request, 'Key'), partitionKey, 'Key');
            return { problem: `write request ${i} is a ${kinds[0]}` };
          });
          return { action: 'dynamodb:BatchWriteItem', resource: ref.resource, ...collect(reads) };
        }),
      );
    case 'TransactWriteItems':
      return Promise.all(
        items(own(input, 'TransactItems'), 'TransactItems').map(async (item, i) => {
          const kinds = isRecord(item) ? Object.keys(item) : [];
          const kind = TRANSACT_WRITE_ACTIONS[kinds[0] ?? ''];
          const body = isRecord(item) ? item[kinds[0] ?? ''] : undefined;
          if (kinds.length !== 1 || !kind || !isRecord(body))
            throw invalid(
              `TransactItems[${i}] is not exactly one Put, Update, Delete or ConditionCheck`,
            );
          const [action, member] = kind;
          const ref = tableRef(own(body, 'TableName'), `TransactItems[${i}].TableName`);
          const { partitionKey } = await schemaOf(ref.table);
          return {
            action,
            resource: ref.resource,
            ...collect([keyOf(own(body, member), partitionKey, member)]),
          };
        }),
      );
    case 'TransactGetItems':
      return Promise.all(
        items(own(input, 'TransactItems'), 'TransactItems').map(async (item, i) => {
          const body =
            isRecord(item) && Object.keys(item).length === 1 ? own(item, 'Get') : undefined;
          if (!isRecord(body)) throw invalid(`TransactItems[${i}] is not exactly one Get`);
          const ref = tableRef(own(body, 'TableName'), `TransactItems[${i}].TableName`);
          const { partitionKey } = await schemaOf(ref.table);
          return {
            action: 'dynamodb:GetItem',
            resource: ref.resource,
            ...collect([keyOf(own(body, 'Key'), partitionKey, 'Key')]),
          };
        }),
      );
    case 'ExecuteStatement':
      return [partiql(own(input, 'Statement'), tableArn)];
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction': {
      const member = operation === 'ExecuteTransaction' ? 'TransactStatements' : 'Statements';
      return items(own(input, member), member).map((s) =>
        partiql(isRecord(s) ? own(s, 'Statement') : undefined, tableArn),
      );
    }
    default:
      return [
        { action: `dynamodb:${operation}`, resource: otherResource(input, options, tableRef) },
      ];
  }
}

/** PartiQL: the action by verb and the table (and index) it names; keys are not parsed. */
function partiql(statement: unknown, tableArn: (t: string) => string): AccessCheck {
  const text = typeof statement === 'string' ? statement : '';
  const verb = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toLowerCase() ?? '';
  const identifier = `("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_.-]*)`;
  const target = new RegExp(
    String.raw`\b(?:from|into|update)\s+${identifier}(?:\s*\.\s*${identifier})?`,
    'i',
  ).exec(text);
  const unquote = (s: string) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s);
  const table = target?.[1] ? tableArn(unquote(target[1])) : '*';
  return {
    action: PARTIQL_ACTIONS[verb] ?? 'dynamodb:PartiQLSelect',
    resource: target?.[2] ? `${table}/index/${unquote(target[2])}` : table,
    undetermined: 'PartiQL statements are not parsed for their partition keys',
  };
}

/** The resource of an operation without leading keys: the table, ARN or global table it names. */
function otherResource(
  input: Json,
  options: RequestAnalysisOptions,
  tableRef: (value: unknown, member: string) => { resource: string },
): string {
  const arn = ['ResourceArn', 'TableArn', 'StreamArn', 'BackupArn', 'ExportArn', 'ImportArn']
    .map((m) => own(input, m))
    .find((v): v is string => typeof v === 'string' && v !== '');
  if (arn) return arn;
  const table = own(input, 'TableName');
  if (table !== undefined) return tableRef(table, 'TableName').resource;
  const globalTable = own(input, 'GlobalTableName');
  if (typeof globalTable === 'string')
    return `arn:aws:dynamodb::${options.accountId}:global-table/${globalTable}`;
  return '*'; // ListTables, DescribeLimits, DescribeEndpoints…: no resource-level permissions
}

const CORAL_SERVICE_ERRORS = new Set([
  'AccessDeniedException',
  'ExpiredTokenException',
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'SerializationException',
  'UnrecognizedClientException',
]);

/**
 * DynamoDB's `__type` for an error name, spelled as the service and DynamoDB Local spell it; the SDK
 * takes the part after `#` as `error.name`.
 */
export function dynamoDbErrorType(name: string): string {
  if (name === 'ValidationException') return `com.amazon.coral.validate#${name}`;
  const namespace = CORAL_SERVICE_ERRORS.has(name)
    ? 'com.amazon.coral.service'
    : 'com.amazonaws.dynamodb.v20120810';
  return `${namespace}#${name}`;
}
