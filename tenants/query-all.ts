/** Every page of a Query, in order: one place for the LastEvaluatedKey loop the services share. */
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';

export async function queryAll(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** The option problems every table-backed factory shares, appended to `issues`. */
export function tableOptionIssues(
  options: { client?: unknown; tableName?: unknown } | undefined,
  issues: string[],
  needsClient = true,
): void {
  if (needsClient && typeof (options?.client as { send?: unknown })?.send !== 'function')
    issues.push('client must be a DynamoDB client');
  if (typeof options?.tableName !== 'string' || options.tableName === '')
    issues.push('tableName must be a non-empty string');
}
