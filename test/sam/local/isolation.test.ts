/**
 * Tenant isolation: the template's own tenant-role policy, judged like IAM, in front of the real
 * DynamoDB Local. Another tenant's key is refused and nothing is written; a Scan is refused.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  evaluateIamPolicy,
  type IsolationProxy,
  principalTagContext,
  startIsolationProxy,
  tenantRolePolicy,
} from '../../../sam/local/isolation/index.js';
import { loadTemplate } from '../../../sam/template.js';
import {
  createTable,
  type DynamoDbLocal,
  startDynamoDbLocal,
} from '../../fixtures/dynamodb-local.js';

const TABLE = 'tenantgate-isolation';
const ARN = `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`;
const policy = tenantRolePolicy(loadTemplate(), ARN);
const judge = (action: string, keys: string[], tags: Record<string, string>, resource = ARN) =>
  evaluateIamPolicy(policy, {
    action,
    resource,
    context: { 'dynamodb:LeadingKeys': keys, ...principalTagContext(tags) },
  }).decision;
const acme = { tenant_id: 'acme', user_id: 'u1' };

describe('the template tenant role, judged like IAM', () => {
  it.each([
    ['own tenant key', 'dynamodb:GetItem', ['TENANT#acme'], 'allow'],
    ['own tenant sub-partition', 'dynamodb:PutItem', ['TENANT#acme#aircraft'], 'allow'],
    ['own user partition', 'dynamodb:Query', ['USER#u1'], 'allow'],
    ['another tenant', 'dynamodb:GetItem', ['TENANT#beta'], 'implicit-deny'],
    ['a prefix-sharing tenant', 'dynamodb:GetItem', ['TENANT#acmex'], 'implicit-deny'],
    ['another user', 'dynamodb:Query', ['USER#u2'], 'implicit-deny'],
    ['a mixed batch', 'dynamodb:BatchGetItem', ['TENANT#acme', 'TENANT#beta'], 'implicit-deny'],
    ['a Scan (never granted)', 'dynamodb:Scan', [], 'implicit-deny'],
    ['an action not granted', 'dynamodb:DeleteTable', ['TENANT#acme'], 'implicit-deny'],
  ])('%s → %s', (_name, action, keys, expected) => {
    expect(judge(action, keys, acme)).toBe(expected);
  });

  it('covers the indexes, and a missing tag denies', () => {
    expect(judge('dynamodb:Query', ['USER#u1'], acme, `${ARN}/index/GSI1`)).toBe('allow');
    expect(judge('dynamodb:GetItem', ['TENANT#acme'], { user_id: 'u1' })).toBe('implicit-deny');
  });

  const tenantId = fc.stringMatching(/^[a-z0-9_-]{1,10}$/);
  test.prop([tenantId, tenantId, fc.constantFrom('', '#x', '#aircraft#1')])(
    "a tenant never reaches another tenant's keys",
    (t, u, suffix) => {
      fc.pre(t !== u && !`${u}${suffix}`.startsWith(`${t}#`));
      expect(
        judge('dynamodb:GetItem', [`TENANT#${u}${suffix}`], { tenant_id: t, user_id: 'x' }),
      ).toBe('implicit-deny');
    },
  );
});

describe('isolation proxy in front of DynamoDB Local', () => {
  let ddb: DynamoDbLocal;
  let proxy: IsolationProxy;
  let tenant: DynamoDBDocumentClient;
  let own: DynamoDBDocumentClient;

  beforeAll(async () => {
    ddb = await startDynamoDbLocal();
    await createTable(ddb.client, TABLE);
    proxy = await startIsolationProxy({
      target: ddb.endpoint,
      region: 'us-east-1',
      accountId: '123456789012',
      policy,
      lookupSession: (id) =>
        id === 'ASIATENANTACME000001'
          ? {
              principalTags: acme,
              expiration: new Date(Date.now() + 3600e3),
              identityId: 'us-east-1:x',
            }
          : undefined,
    });
    const client = (accessKeyId: string) =>
      DynamoDBDocumentClient.from(
        new DynamoDBClient({
          endpoint: proxy.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId, secretAccessKey: 's', sessionToken: 't' },
          maxAttempts: 1,
        }),
      );
    tenant = client('ASIATENANTACME000001');
    own = client('AKIDFUNCTIONROLE0001');
  });
  afterAll(async () => {
    tenant?.destroy();
    own?.destroy();
    await proxy?.stop();
    await ddb?.stop();
  });

  const errorName = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: Error) => e.name,
    );

  it('own-tenant put, get, query and transaction pass', async () => {
    await tenant.send(
      new PutCommand({ TableName: TABLE, Item: { PK: 'TENANT#acme', SK: 'AIRCRAFT#1' } }),
    );
    expect(
      (
        await tenant.send(
          new GetCommand({ TableName: TABLE, Key: { PK: 'TENANT#acme', SK: 'AIRCRAFT#1' } }),
        )
      ).Item,
    ).toBeDefined();
    const q = await tenant.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'PK' },
        ExpressionAttributeValues: { ':pk': 'TENANT#acme' },
      }),
    );
    expect(q.Items).toHaveLength(1);
    await tenant.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: TABLE, Item: { PK: 'TENANT#acme', SK: 'AIRCRAFT#2' } } },
        ],
      }),
    );
  });

  it("another tenant's key is AccessDeniedException and nothing is written", async () => {
    expect(
      await errorName(
        tenant.send(
          new PutCommand({ TableName: TABLE, Item: { PK: 'TENANT#beta', SK: 'AIRCRAFT#9' } }),
        ),
      ),
    ).toBe('AccessDeniedException');
    expect(
      await errorName(
        tenant.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: TABLE, Item: { PK: 'TENANT#acme', SK: 'AIRCRAFT#3' } } },
              { Put: { TableName: TABLE, Item: { PK: 'TENANT#beta', SK: 'AIRCRAFT#3' } } },
            ],
          }),
        ),
      ),
    ).toBe('AccessDeniedException');
    expect(
      await errorName(
        tenant.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': 'TENANT#beta' },
          }),
        ),
      ),
    ).toBe('AccessDeniedException');
    for (const Key of [
      { PK: 'TENANT#beta', SK: 'AIRCRAFT#9' },
      { PK: 'TENANT#acme', SK: 'AIRCRAFT#3' },
    ]) {
      expect((await own.send(new GetCommand({ TableName: TABLE, Key }))).Item).toBeUndefined();
    }
  });

  it('a Scan is refused; the function role passes through', async () => {
    expect(await errorName(tenant.send(new ScanCommand({ TableName: TABLE })))).toBe(
      'AccessDeniedException',
    );
    expect((await own.send(new ScanCommand({ TableName: TABLE }))).Items?.length).toBeGreaterThan(
      0,
    );
    expect(proxy.decisions().denied).toBeGreaterThanOrEqual(4);
  });
});
