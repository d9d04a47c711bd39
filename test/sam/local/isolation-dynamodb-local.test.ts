/**
 * Tenant isolation end to end: template.yaml's own tenant-role policy, enforced by the proxy in front
 * of the real DynamoDB Local, driven by the real @aws-sdk/lib-dynamodb client with session
 * credentials. Own data keys work in every operation, the own control partition is read-only;
 * another tenant's key, any index and any user partition are AccessDeniedException and nothing is
 * written; Scan is refused; unknown keys pass through.
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
  let fn: DynamoDBDocumentClient; // a key the proxy does not know (the stack's own), through it
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
    fn = documentClient(proxy.endpoint, { accessKeyId: 'local', secretAccessKey: 'local' });
    a = session('a', 'u1');
    b = session('b', 'u2');
    await admin.send(
      new PutCommand({ TableName: TABLE, Item: { PK: 'TENANT#b', SK: 'PROFILE', name: 'Beta' } }),
    );
    // What the control plane writes: a's membership of u1, and u1's profile.
    await admin.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          PK: 'CONTROL#a',
          SK: 'USER#u1',
          role: 'pilot',
          GSI1PK: 'USER#u1',
          GSI1SK: 'CONTROL#a',
        },
      }),
    );
    await admin.send(
      new PutCommand({ TableName: TABLE, Item: { PK: 'USER#u1', SK: 'PROFILE', email: 'u1@a' } }),
    );
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await proxy?.stop();
    await ddb?.stop();
  });

  it("enforces the template's own tenant-role statements", () => {
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TenantData',
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
          Resource: TABLE_ARN,
          Condition: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': [
                `TENANT#\${aws:PrincipalTag/tenant_id}`,
                `TENANT#\${aws:PrincipalTag/tenant_id}#*`,
              ],
            },
          },
        },
        {
          Sid: 'TenantControlReadOnly',
          Effect: 'Allow',
          Action: [
            'dynamodb:GetItem',
            'dynamodb:BatchGetItem',
            'dynamodb:Query',
            'dynamodb:ConditionCheckItem',
          ],
          Resource: TABLE_ARN,
          Condition: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': [`CONTROL#\${aws:PrincipalTag/tenant_id}`],
            },
          },
        },
      ],
    });
  });

  it('own-tenant put, get, update, query and delete succeed, sub-partitions included', async () => {
    await a.send(new PutCommand({ TableName: TABLE, Item: { PK: 'TENANT#a', SK: 'AIRCRAFT#1' } }));
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
    await a.send(new DeleteCommand({ TableName: TABLE, Key: { PK: 'TENANT#a#logs', SK: '1' } }));
    expect(await stored('TENANT#a#logs', '1')).toBeUndefined();
  });

  it('the own control partition is readable (get, query, condition check) and never writable', async () => {
    const member = { PK: 'CONTROL#a', SK: 'USER#u1' };
    expect((await a.send(new GetCommand({ TableName: TABLE, Key: member }))).Item?.role).toBe(
      'pilot',
    );
    const roles = await a.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': 'CONTROL#a' },
      }),
    );
    expect(roles.Items).toHaveLength(1);
    expect(
      await failure(
        a.send(new PutCommand({ TableName: TABLE, Item: { ...member, role: 'admin' } })),
      ),
    ).toEqual(denied('dynamodb:PutItem'));
    expect(
      await failure(
        a.send(
          new UpdateCommand({
            TableName: TABLE,
            Key: member,
            UpdateExpression: 'SET #r = :r',
            ExpressionAttributeNames: { '#r': 'role' },
            ExpressionAttributeValues: { ':r': 'admin' },
          }),
        ),
      ),
    ).toEqual(denied('dynamodb:UpdateItem'));
    expect(await failure(a.send(new DeleteCommand({ TableName: TABLE, Key: member })))).toEqual(
      denied('dynamodb:DeleteItem'),
    );
    expect(await stored('CONTROL#a', 'USER#u1')).toMatchObject({ ...member, role: 'pilot' });
  });

  it('own-tenant batches and transactions succeed, the role check a ConditionCheck on the control partition', async () => {
    await a.send(
      new BatchWriteCommand({
        RequestItems: {
          [TABLE]: [
            { PutRequest: { Item: { PK: 'TENANT#a', SK: 'PILOT#1' } } },
            { PutRequest: { Item: { PK: 'TENANT#a#prefs', SK: 'u1' } } },
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
              { PK: 'TENANT#a#prefs', SK: 'u1' },
            ],
          },
        },
      }),
    );
    expect(got.Responses?.[TABLE]).toHaveLength(2);
    // A batch's leading keys form one multivalued context key, and ForAllValues needs one statement
    // to cover them all: data and control items, each allowed alone, are refused together (IAM's
    // documented set semantics; that DynamoDB evaluates a batch per table this way is inferred).
    expect(
      await failure(
        a.send(
          new BatchGetCommand({
            RequestItems: {
              [TABLE]: {
                Keys: [
                  { PK: 'TENANT#a', SK: 'PILOT#1' },
                  { PK: 'CONTROL#a', SK: 'USER#u1' },
                ],
              },
            },
          }),
        ),
      ),
    ).toEqual(denied('dynamodb:BatchGetItem'));
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
              Key: { PK: 'CONTROL#a', SK: 'USER#u1' },
              ConditionExpression: '#r = :r',
              ExpressionAttributeNames: { '#r': 'role' },
              ExpressionAttributeValues: { ':r': 'pilot' },
            },
          },
          { Delete: { TableName: TABLE, Key: { PK: 'TENANT#a#prefs', SK: 'u1' } } },
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
    // No index at all, not even with its own keys, and no user partition, not even its own.
    expect(
      await failure(
        a.send(
          new QueryCommand({
            TableName: TABLE,
            IndexName: 'GSI1',
            KeyConditionExpression: 'GSI1PK = :u',
            ExpressionAttributeValues: { ':u': 'USER#u1' },
          }),
        ),
      ),
    ).toEqual(denied('dynamodb:Query', `${TABLE_ARN}/index/GSI1`));
    expect(
      await failure(
        a.send(new GetCommand({ TableName: TABLE, Key: { PK: 'USER#u1', SK: 'PROFILE' } })),
      ),
    ).toEqual(denied('dynamodb:GetItem'));
    // Another tenant's control partition, even to read.
    expect(
      await failure(
        a.send(new GetCommand({ TableName: TABLE, Key: { PK: 'CONTROL#b', SK: 'USER#u2' } })),
      ),
    ).toEqual(denied('dynamodb:GetItem'));
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

  it('keys that are no principal of the stack (its own provisioning key) pass through untouched', async () => {
    const all = await fn.send(new ScanCommand({ TableName: TABLE }));
    const partitions = new Set(all.Items?.map((i) => String(i.PK).split('#')[0]));
    expect(partitions).toEqual(new Set(['TENANT', 'CONTROL', 'USER']));
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
      'dynamodb:PutItem': 3,
      'dynamodb:GetItem': 3,
      'dynamodb:UpdateItem': 2,
      'dynamodb:DeleteItem': 3,
      'dynamodb:Query': 3,
      'dynamodb:BatchWriteItem': 1,
      'dynamodb:BatchGetItem': 2,
      'dynamodb:Scan': 2,
    });
    expect(d.rejected).toEqual({ ExpiredTokenException: 1, InvalidSignatureException: 1 });
    expect(d.allowed['dynamodb:PutItem']).toBe(3); // two puts + the transaction's put
    expect(d.allowed['dynamodb:ConditionCheckItem']).toBe(1);
    expect(d.passedThrough).toBe(1);
  });
});
