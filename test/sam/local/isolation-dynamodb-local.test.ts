/**
 * Tenant isolation end to end: template.yaml's own tenant-role policy, enforced by the proxy in front
 * of the real DynamoDB Local, driven by the real @aws-sdk/lib-dynamodb client with session
 * credentials. Own keys work in every operation; another tenant's key is AccessDeniedException and
 * nothing is written; Scan is refused; the functions' own credentials pass through.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IsolationProxy,
  type SessionInfo,
  startIsolationProxy,
  tenantRolePolicy,
} from '../../../sam/local/isolation/index.js';
import { loadTemplate } from '../../../sam/template.js';
import {
  createTable,
  type DynamoDbLocal,
  startDynamoDbLocal,
} from '../../fixtures/dynamodb-local.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const TABLE = 'tenantgate-isolation';
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}`;
const policy = tenantRolePolicy(loadTemplate(), TABLE_ARN);
const PRINCIPAL = `arn:aws:sts::${ACCOUNT}:assumed-role/TenantDataRole/CognitoIdentityCredentials`;

describe('tenant isolation in front of DynamoDB Local', () => {
  let ddb: DynamoDbLocal;
  let proxy: IsolationProxy;
  let admin: DynamoDBDocumentClient; // straight to DynamoDB Local: the ground truth
  let fn: DynamoDBDocumentClient; // the functions' own credentials, through the proxy
  let a: DynamoDBDocumentClient; // tenant a, user u1
  let b: DynamoDBDocumentClient; // tenant b, user u2
  const sessions = new Map<string, SessionInfo>();
  const clients: DynamoDBDocumentClient[] = [];

  /** Register an identity-pool-like session and a client signing with it. */
  const session = (tenantId: string, userId: string, expiresInMs = 3600_000, secret?: string) => {
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(20).toString('base64');
    const sessionToken = randomBytes(64).toString('base64');
    sessions.set(accessKeyId, {
      principalTags: { tenant_id: tenantId, user_id: userId },
      secretAccessKey,
      sessionToken,
      expiration: new Date(Date.now() + expiresInMs),
      identityId: `${REGION}:${randomBytes(8).toString('hex')}`,
    });
    return documentClient(proxy.endpoint, {
      accessKeyId,
      secretAccessKey: secret ?? secretAccessKey,
      sessionToken,
    });
  };
  const documentClient = (
    endpoint: string,
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  ) => {
    const c = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint, region: REGION, credentials, maxAttempts: 1 }),
    );
    clients.push(c);
    return c;
  };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => ({ name: 'ok', message: '' }),
      (e: Error) => ({ name: e.name, message: e.message }),
    );
  const denied = (action: string, resource = TABLE_ARN) => ({
    name: 'AccessDeniedException',
    message: `User: ${PRINCIPAL} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  });
  const stored = async (PK: string, SK: string) =>
    (await admin.send(new GetCommand({ TableName: TABLE, Key: { PK, SK } }))).Item;

  beforeAll(async () => {
    ddb = await startDynamoDbLocal();
    await createTable(ddb.client, TABLE);
    proxy = await startIsolationProxy({
      target: ddb.endpoint,
      lookupSession: (id) => sessions.get(id),
      policy,
      region: REGION,
      accountId: ACCOUNT,
    });
    admin = DynamoDBDocumentClient.from(ddb.client);
    fn = documentClient(proxy.endpoint, { accessKeyId: 'AKIDLOCALFUNCTION', secretAccessKey: 'x' });
    a = session('a', 'u1');
    b = session('b', 'u2');
    await admin.send(
      new PutCommand({ TableName: TABLE, Item: { PK: 'TENANT#b', SK: 'PROFILE', name: 'Beta' } }),
    );
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await proxy?.stop();
    await ddb?.stop();
  });

  it("enforces the template's own tenant-role statement", () => {
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TenantScopedItems',
          Effect: 'Allow',
          Action: [
            'dynamodb:GetItem',
            'dynamodb:BatchGetItem',
            'dynamodb:Query',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:BatchWriteItem',
            'dynamodb:ConditionCheckItem',
          ],
          Resource: [TABLE_ARN, `${TABLE_ARN}/index/*`],
          Condition: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': [
                `TENANT#\${aws:PrincipalTag/tenant_id}`,
                `TENANT#\${aws:PrincipalTag/tenant_id}#*`,
                `USER#\${aws:PrincipalTag/user_id}`,
              ],
            },
          },
        },
      ],
    });
  });

  it('own-tenant put, get, update, query (table and index) and delete succeed', async () => {
    await a.send(
      new PutCommand({
        TableName: TABLE,
        Item: { PK: 'TENANT#a', SK: 'AIRCRAFT#1', GSI1PK: 'USER#u1', GSI1SK: 'TENANT#a' },
      }),
    );
    await a.send(new PutCommand({ TableName: TABLE, Item: { PK: 'TENANT#a#logs', SK: '1' } }));
    await a.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { PK: 'TENANT#a', SK: 'AIRCRAFT#1' },
        UpdateExpression: 'SET tail = :t',
        ExpressionAttributeValues: { ':t': 'N123' },
      }),
    );
    expect(
      (
        await a.send(
          new GetCommand({ TableName: TABLE, Key: { PK: 'TENANT#a', SK: 'AIRCRAFT#1' } }),
        )
      ).Item?.tail,
    ).toBe('N123');
    const q = await a.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeNames: { '#pk': 'PK' },
        ExpressionAttributeValues: { ':pk': 'TENANT#a', ':sk': 'AIRCRAFT#' },
      }),
    );
    expect(q.Items?.map((i) => i.SK)).toEqual(['AIRCRAFT#1']);
    const byUser = await a.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :u',
        ExpressionAttributeValues: { ':u': 'USER#u1' },
      }),
    );
    expect(byUser.Items).toHaveLength(1);
    await a.send(new DeleteCommand({ TableName: TABLE, Key: { PK: 'TENANT#a#logs', SK: '1' } }));
    expect(await stored('TENANT#a#logs', '1')).toBeUndefined();
  });

  it('own-tenant batches and transactions succeed', async () => {
    await a.send(
      new BatchWriteCommand({
        RequestItems: {
          [TABLE]: [
            { PutRequest: { Item: { PK: 'TENANT#a', SK: 'PILOT#1' } } },
            { PutRequest: { Item: { PK: 'USER#u1', SK: 'PREFS' } } },
          ],
        },
      }),
    );
    const got = await a.send(
      new BatchGetCommand({
        RequestItems: {
          [TABLE]: {
            Keys: [
              { PK: 'TENANT#a', SK: 'PILOT#1' },
              { PK: 'USER#u1', SK: 'PREFS' },
            ],
          },
        },
      }),
    );
    expect(got.Responses?.[TABLE]).toHaveLength(2);
    await a.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: TABLE, Item: { PK: 'TENANT#a', SK: 'AIRCRAFT#2' } } },
          {
            Update: {
              TableName: TABLE,
              Key: { PK: 'TENANT#a', SK: 'AIRCRAFT#1' },
              UpdateExpression: 'SET seats = :s',
              ExpressionAttributeValues: { ':s': 4 },
            },
          },
          {
            ConditionCheck: {
              TableName: TABLE,
              Key: { PK: 'TENANT#a', SK: 'PILOT#1' },
              ConditionExpression: 'attribute_exists(PK)',
            },
          },
          { Delete: { TableName: TABLE, Key: { PK: 'USER#u1', SK: 'PREFS' } } },
        ],
      }),
    );
    const t = await a.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: TABLE, Key: { PK: 'TENANT#a', SK: 'AIRCRAFT#1' } } },
          { Get: { TableName: TABLE, Key: { PK: 'TENANT#a', SK: 'AIRCRAFT#2' } } },
        ],
      }),
    );
    expect(t.Responses?.map((r) => r.Item?.SK)).toEqual(['AIRCRAFT#1', 'AIRCRAFT#2']);
  });

  it("another tenant's key is AccessDeniedException in every operation, and nothing changes", async () => {
    const beta = { PK: 'TENANT#b', SK: 'PROFILE' };
    expect(
      await failure(a.send(new PutCommand({ TableName: TABLE, Item: { ...beta, name: 'pwned' } }))),
    ).toEqual(denied('dynamodb:PutItem'));
    expect(await failure(a.send(new GetCommand({ TableName: TABLE, Key: beta })))).toEqual(
      denied('dynamodb:GetItem'),
    );
    expect(
      await failure(
        a.send(
          new UpdateCommand({
            TableName: TABLE,
            Key: beta,
            UpdateExpression: 'SET #n = :n',
            ExpressionAttributeNames: { '#n': 'name' },
            ExpressionAttributeValues: { ':n': 'pwned' },
          }),
        ),
      ),
    ).toEqual(denied('dynamodb:UpdateItem'));
    expect(await failure(a.send(new DeleteCommand({ TableName: TABLE, Key: beta })))).toEqual(
      denied('dynamodb:DeleteItem'),
    );
    expect(
      await failure(
        a.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': 'TENANT#b' },
          }),
        ),
      ),
    ).toEqual(denied('dynamodb:Query'));
    expect(
      await failure(
        a.send(
          new QueryCommand({
            TableName: TABLE,
            IndexName: 'GSI1',
            KeyConditionExpression: 'GSI1PK = :u',
            ExpressionAttributeValues: { ':u': 'USER#u2' },
          }),
        ),
      ),
    ).toEqual(denied('dynamodb:Query', `${TABLE_ARN}/index/GSI1`));
    // a tenant id that only shares a prefix
    expect(
      await failure(
        a.send(new PutCommand({ TableName: TABLE, Item: { PK: 'TENANT#ab', SK: 'x' } })),
      ),
    ).toEqual(denied('dynamodb:PutItem'));
    expect(await stored('TENANT#b', 'PROFILE')).toEqual({ ...beta, name: 'Beta' });
    expect(await stored('TENANT#ab', 'x')).toBeUndefined();
    // and b still reaches its own
    expect((await b.send(new GetCommand({ TableName: TABLE, Key: beta }))).Item?.name).toBe('Beta');
  });

  it('a mixed batch or transaction is refused whole: not even the own items are written', async () => {
    expect(
      await failure(
        a.send(
          new BatchWriteCommand({
            RequestItems: {
              [TABLE]: [
                { PutRequest: { Item: { PK: 'TENANT#a', SK: 'MIXED#1' } } },
                { PutRequest: { Item: { PK: 'TENANT#b', SK: 'MIXED#1' } } },
              ],
            },
          }),
        ),
      ),
    ).toEqual(denied('dynamodb:BatchWriteItem'));
    expect(
      await failure(
        a.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: TABLE, Item: { PK: 'TENANT#a', SK: 'MIXED#2' } } },
              { Delete: { TableName: TABLE, Key: { PK: 'TENANT#b', SK: 'PROFILE' } } },
            ],
          }),
        ),
      ),
    ).toEqual(denied('dynamodb:DeleteItem'));
    expect(
      await failure(
        a.send(
          new BatchGetCommand({
            RequestItems: {
              [TABLE]: {
                Keys: [
                  { PK: 'TENANT#a', SK: 'PILOT#1' },
                  { PK: 'TENANT#b', SK: 'PROFILE' },
                ],
              },
            },
          }),
        ),
      ),
    ).toEqual(denied('dynamodb:BatchGetItem'));
    for (const [PK, SK] of [
      ['TENANT#a', 'MIXED#1'],
      ['TENANT#b', 'MIXED#1'],
      ['TENANT#a', 'MIXED#2'],
    ] as const) {
      expect(await stored(PK, SK)).toBeUndefined();
    }
    expect(await stored('TENANT#b', 'PROFILE')).toBeDefined();
  });

  it('Scan is refused on the table and on an index', async () => {
    expect(await failure(a.send(new ScanCommand({ TableName: TABLE })))).toEqual(
      denied('dynamodb:Scan'),
    );
    expect(await failure(a.send(new ScanCommand({ TableName: TABLE, IndexName: 'GSI1' })))).toEqual(
      denied('dynamodb:Scan', `${TABLE_ARN}/index/GSI1`),
    );
  });

  it("the functions' own credentials pass through untouched", async () => {
    const all = await fn.send(new ScanCommand({ TableName: TABLE }));
    const tenants = new Set(all.Items?.map((i) => String(i.PK).split('#')[1]));
    expect(tenants).toEqual(new Set(['a', 'b']));
  });

  it('an expired session is ExpiredTokenException; a wrong secret InvalidSignatureException', async () => {
    const expired = session('a', 'u1', -1000);
    expect(
      await failure(
        expired.send(new GetCommand({ TableName: TABLE, Key: { PK: 'TENANT#a', SK: 'x' } })),
      ),
    ).toEqual({
      name: 'ExpiredTokenException',
      message: 'The security token included in the request is expired',
    });
    const forged = session('a', 'u1', 3600_000, 'not the session secret');
    expect(
      (
        await failure(
          forged.send(new GetCommand({ TableName: TABLE, Key: { PK: 'TENANT#a', SK: 'x' } })),
        )
      ).name,
    ).toBe('InvalidSignatureException');
  });

  it('counts decisions per action', () => {
    const d = proxy.decisions();
    expect(d.denied).toEqual({
      'dynamodb:PutItem': 2,
      'dynamodb:GetItem': 1,
      'dynamodb:UpdateItem': 1,
      'dynamodb:DeleteItem': 2,
      'dynamodb:Query': 2,
      'dynamodb:BatchWriteItem': 1,
      'dynamodb:BatchGetItem': 1,
      'dynamodb:Scan': 2,
    });
    expect(d.rejected).toEqual({ ExpiredTokenException: 1, InvalidSignatureException: 1 });
    expect(d.allowed['dynamodb:PutItem']).toBe(3); // two puts + the transaction's put
    expect(d.allowed['dynamodb:ConditionCheckItem']).toBe(1);
    expect(d.passedThrough).toBe(1);
  });
});
