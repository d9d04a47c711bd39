/** DynamoDB call → the IAM checks it needs: every operation, and every way a key can be unreadable. */
import { describe, expect, it } from 'vitest';
import {
  analyzeRequest,
  dynamoDbErrorType,
  parseRequestBody,
  parseTarget,
  type TableKeySchema,
} from '../../../sam/local/isolation/dynamodb-requests.js';
import {
  KeySchemaUnavailableError,
  RequestRejectedError,
} from '../../../sam/local/isolation/errors.js';

const ACCOUNT = '123456789012';
const ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table`;
const SCHEMAS: Record<string, TableKeySchema> = {
  T: { partitionKey: 'PK', indexes: { GSI1: 'GSI1PK' } },
  Other: { partitionKey: 'id' },
};
const looked: string[] = [];
const analyze = (operation: string, input: Record<string, unknown>) =>
  analyzeRequest(operation, input, {
    region: 'us-east-1',
    accountId: ACCOUNT,
    keySchema: async (table) => {
      looked.push(table);
      return SCHEMAS[table];
    },
  });
const S = (s: string) => ({ S: s });

/** The DynamoDB error a rejected analysis answers with. */
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof RequestRejectedError ? e.errorType : String(e)),
  );

describe('X-Amz-Target and body', () => {
  it('reads the operation of a DynamoDB target only', () => {
    expect(parseTarget('DynamoDB_20120810.GetItem')).toBe('GetItem');
    expect(parseTarget('DynamoDB_20120810.')).toBeUndefined();
    expect(parseTarget('DynamoDB_20120810.GetItem, DynamoDB_20120810.Scan')).toBeUndefined();
    expect(parseTarget('DynamoDBStreams_20120810.GetRecords')).toBeUndefined();
    expect(parseTarget(undefined)).toBeUndefined();
    expect(parseTarget(['DynamoDB_20120810.GetItem'])).toBeUndefined();
  });

  it('parses an object body; an empty body is {}', () => {
    expect(parseRequestBody('{"TableName":"T","Key":{"PK":{"S":"a\\":b"}}}')).toEqual({
      TableName: 'T',
      Key: { PK: { S: 'a":b' } },
    });
    expect(parseRequestBody('')).toEqual({});
    expect(parseRequestBody(' { "a" : [ { "b" : 1 } , { "b" : 2 } ] } ')).toEqual({
      a: [{ b: 1 }, { b: 2 }],
    });
  });

  it.each([
    ['not JSON', '{"TableName":'],
    ['an array', '[]'],
    ['a string', '"x"'],
    ['a repeated member', '{"Key":{"PK":{"S":"TENANT#a"}},"Key":{"PK":{"S":"TENANT#b"}}}'],
    ['a repeated nested member', '{"Key":{"PK":{"S":"TENANT#a","S":"TENANT#b"}}}'],
  ])('refuses %s as SerializationException', (_name, body) => {
    expect(() => parseRequestBody(body)).toThrow(RequestRejectedError);
    try {
      parseRequestBody(body);
    } catch (e) {
      expect((e as RequestRejectedError).errorType).toBe('SerializationException');
    }
  });

  it('spells __type as DynamoDB does', () => {
    expect(dynamoDbErrorType('AccessDeniedException')).toBe(
      'com.amazon.coral.service#AccessDeniedException',
    );
    expect(dynamoDbErrorType('ValidationException')).toBe(
      'com.amazon.coral.validate#ValidationException',
    );
    expect(dynamoDbErrorType('ResourceNotFoundException')).toBe(
      'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
    );
  });
});

describe('item operations', () => {
  it.each([
    ['GetItem', 'Key'],
    ['UpdateItem', 'Key'],
    ['DeleteItem', 'Key'],
    ['PutItem', 'Item'],
  ])('%s: its action on the table, the partition key of %s', async (op, member) => {
    expect(
      await analyze(op, { TableName: 'T', [member]: { PK: S('TENANT#a'), SK: S('X') } }),
    ).toEqual([{ action: `dynamodb:${op}`, resource: `${ARN}/T`, leadingKeys: ['TENANT#a'] }]);
  });

  it('reads N and B keys as their text, and a table named by ARN', async () => {
    expect(await analyze('GetItem', { TableName: 'Other', Key: { id: { N: '42' } } })).toEqual([
      { action: 'dynamodb:GetItem', resource: `${ARN}/Other`, leadingKeys: ['42'] },
    ]);
    const other = `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/T`;
    expect(await analyze('GetItem', { TableName: other, Key: { PK: { B: 'AAE=' } } })).toEqual([
      { action: 'dynamodb:GetItem', resource: other, leadingKeys: ['AAE='] },
    ]);
  });

  it.each([
    ['no Key', {}, 'Key is missing'],
    ['no partition key', { Key: { SK: S('x') } }, 'Key has no partition key attribute PK'],
    [
      'two types',
      { Key: { PK: { S: 'TENANT#a', N: '1' } } },
      'Key.PK is not exactly one S, N or B value',
    ],
    [
      'a non-scalar type',
      { Key: { PK: { L: [S('TENANT#a')] } } },
      'Key.PK is not exactly one S, N or B value',
    ],
    ['a non-string value', { Key: { PK: { S: 1 } } }, 'Key.PK is not exactly one S, N or B value'],
    ['a raw value', { Key: { PK: 'TENANT#a' } }, 'Key.PK is not an attribute value'],
  ])('an unreadable key (%s) is undetermined, never an empty set', async (_n, body, why) => {
    expect(await analyze('GetItem', { TableName: 'T', ...body })).toEqual([
      { action: 'dynamodb:GetItem', resource: `${ARN}/T`, undetermined: why },
    ]);
  });

  it('rejects what DynamoDB rejects before touching data', async () => {
    expect(await rejection(analyze('GetItem', { Key: { PK: S('a') } }))).toBe(
      'ValidationException',
    );
    expect(await rejection(analyze('GetItem', { TableName: 'arn:aws:s3:::bucket' }))).toBe(
      'ValidationException',
    );
    expect(await rejection(analyze('PutItem', { TableName: 'Nope', Item: { PK: S('a') } }))).toBe(
      'ResourceNotFoundException',
    );
  });

  it('a key schema that cannot be read is KeySchemaUnavailableError', async () => {
    const failing = analyzeRequest(
      'GetItem',
      { TableName: 'T', Key: { PK: S('a') } },
      {
        region: 'us-east-1',
        accountId: ACCOUNT,
        keySchema: () => {
          throw new Error('ECONNREFUSED');
        },
      },
    );
    await expect(failing).rejects.toBeInstanceOf(KeySchemaUnavailableError);
  });
});

describe('Query', () => {
  const query = (input: Record<string, unknown>) => analyze('Query', { TableName: 'T', ...input });
  const keysOf = async (input: Record<string, unknown>) => (await query(input))[0];

  it.each([
    ['a placeholder name', '#pk = :pk', { '#pk': 'PK' }],
    ['a bare name with a sort key condition', 'PK = :pk AND begins_with(SK, :p)', undefined],
    ['the value on the left', ':pk = PK', undefined],
    ['parentheses and no spaces', '(PK=:pk) AND SK > :p', undefined],
  ])('reads the partition key equality: %s', async (_n, KeyConditionExpression, names) => {
    expect(
      await keysOf({
        KeyConditionExpression,
        ...(names ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: { ':pk': S('TENANT#a'), ':p': S('X') },
      }),
    ).toEqual({ action: 'dynamodb:Query', resource: `${ARN}/T`, leadingKeys: ['TENANT#a'] });
  });

  it('reads the legacy KeyConditions, and both forms together', async () => {
    const legacy = { PK: { ComparisonOperator: 'EQ', AttributeValueList: [S('TENANT#a')] } };
    expect((await keysOf({ KeyConditions: legacy }))?.leadingKeys).toEqual(['TENANT#a']);
    expect(
      (
        await keysOf({
          KeyConditions: legacy,
          KeyConditionExpression: 'PK = :v',
          ExpressionAttributeValues: { ':v': S('TENANT#b') },
        })
      )?.leadingKeys,
    ).toEqual(['TENANT#a', 'TENANT#b']);
    expect(
      (
        await keysOf({
          KeyConditions: {
            PK: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: [S('T')] },
          },
        })
      )?.undetermined,
    ).toBe('KeyConditions.PK is not EQ with one value');
  });

  it('a key compared twice yields both values (DynamoDB refuses it; IAM must see both)', async () => {
    expect(
      (
        await keysOf({
          KeyConditionExpression: 'PK = :a AND PK = :b',
          ExpressionAttributeValues: { ':a': S('TENANT#a'), ':b': S('TENANT#b') },
        })
      )?.leadingKeys,
    ).toEqual(['TENANT#a', 'TENANT#b']);
  });

  it('queries an index by its own partition key', async () => {
    expect(
      await keysOf({
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :v',
        ExpressionAttributeValues: { ':v': S('USER#u1') },
      }),
    ).toEqual({
      action: 'dynamodb:Query',
      resource: `${ARN}/T/index/GSI1`,
      leadingKeys: ['USER#u1'],
    });
    expect(
      (
        await keysOf({
          IndexName: 'GSI1',
          KeyConditionExpression: 'PK = :v',
          ExpressionAttributeValues: { ':v': S('TENANT#a') },
        })
      )?.undetermined,
    ).toBe('no equality condition on GSI1PK');
    expect(await rejection(query({ IndexName: 'Nope', KeyConditionExpression: 'x = :v' }))).toBe(
      'ValidationException',
    );
    expect(await rejection(query({ IndexName: 'constructor' }))).toBe('ValidationException');
  });

  it.each([
    ['no key condition', {}, 'no equality condition on PK'],
    [
      'only a sort key condition',
      { KeyConditionExpression: 'SK = :v' },
      'no equality condition on PK',
    ],
    [
      'a function on the key',
      { KeyConditionExpression: 'begins_with(PK, :v)' },
      'the partition key PK is not compared with = to a value',
    ],
    [
      'a comparison other than =',
      { KeyConditionExpression: 'PK > :v' },
      'the partition key PK is not compared with = to a value',
    ],
    [
      'a nested path',
      { KeyConditionExpression: 'PK.x = :v' },
      'KeyConditionExpression could not be read',
    ],
    [
      'a missing value',
      { KeyConditionExpression: 'PK = :missing' },
      'ExpressionAttributeValues :missing is not an attribute value',
    ],
    [
      'an expression that is not a string',
      { KeyConditionExpression: 1 },
      'KeyConditionExpression could not be read',
    ],
  ])('%s is undetermined', async (_n, input, why) => {
    expect(
      (await keysOf({ ExpressionAttributeValues: { ':v': S('TENANT#a') }, ...input }))
        ?.undetermined,
    ).toBe(why);
  });
});

describe('Scan and the rest', () => {
  it('Scan has no leading keys at all (absent from the context)', async () => {
    expect(await analyze('Scan', { TableName: 'T' })).toEqual([
      { action: 'dynamodb:Scan', resource: `${ARN}/T` },
    ]);
    expect(await analyze('Scan', { TableName: 'T', IndexName: 'GSI1' })).toEqual([
      { action: 'dynamodb:Scan', resource: `${ARN}/T/index/GSI1` },
    ]);
  });

  it.each([
    ['DescribeTable', { TableName: 'T' }, `${ARN}/T`],
    ['ListTables', {}, '*'],
    ['DescribeLimits', {}, '*'],
    ['TagResource', { ResourceArn: `${ARN}/T`, Tags: [] }, `${ARN}/T`],
    [
      'DescribeGlobalTable',
      { GlobalTableName: 'G' },
      `arn:aws:dynamodb::${ACCOUNT}:global-table/G`,
    ],
  ])('%s: its own action, its resource, no leading keys', async (op, input, resource) => {
    expect(await analyze(op, input)).toEqual([{ action: `dynamodb:${op}`, resource }]);
  });
});

describe('batches and transactions', () => {
  it('BatchGetItem: one check per table with every key', async () => {
    expect(
      await analyze('BatchGetItem', {
        RequestItems: {
          T: {
            Keys: [
              { PK: S('TENANT#a'), SK: S('1') },
              { PK: S('TENANT#a#x'), SK: S('2') },
            ],
          },
          Other: { Keys: [{ id: S('TENANT#b') }] },
        },
      }),
    ).toEqual([
      {
        action: 'dynamodb:BatchGetItem',
        resource: `${ARN}/T`,
        leadingKeys: ['TENANT#a', 'TENANT#a#x'],
      },
      { action: 'dynamodb:BatchGetItem', resource: `${ARN}/Other`, leadingKeys: ['TENANT#b'] },
    ]);
    expect(
      (
        await analyze('BatchGetItem', {
          RequestItems: { T: { Keys: [{ PK: S('a') }, { SK: S('b') }] } },
        })
      )[0]?.undetermined,
    ).toBe('Keys[1] has no partition key attribute PK');
    expect(await rejection(analyze('BatchGetItem', { RequestItems: {} }))).toBe(
      'ValidationException',
    );
    expect(await rejection(analyze('BatchGetItem', { RequestItems: { T: { Keys: [] } } }))).toBe(
      'ValidationException',
    );
  });

  it('BatchWriteItem: puts and deletes of each table together', async () => {
    expect(
      await analyze('BatchWriteItem', {
        RequestItems: {
          T: [
            { PutRequest: { Item: { PK: S('TENANT#a'), SK: S('1') } } },
            { DeleteRequest: { Key: { PK: S('TENANT#b'), SK: S('1') } } },
          ],
        },
      }),
    ).toEqual([
      {
        action: 'dynamodb:BatchWriteItem',
        resource: `${ARN}/T`,
        leadingKeys: ['TENANT#a', 'TENANT#b'],
      },
    ]);
    const both = {
      PutRequest: { Item: { PK: S('TENANT#a') } },
      DeleteRequest: { Key: { PK: S('TENANT#b') } },
    };
    expect(
      (await analyze('BatchWriteItem', { RequestItems: { T: [both] } }))[0]?.undetermined,
    ).toBe('write request 0 is not exactly one PutRequest or DeleteRequest');
  });

  it('TransactWriteItems: each item under its item action', async () => {
    expect(
      await analyze('TransactWriteItems', {
        TransactItems: [
          { Put: { TableName: 'T', Item: { PK: S('TENANT#a'), SK: S('1') } } },
          { Update: { TableName: 'T', Key: { PK: S('TENANT#a'), SK: S('2') } } },
          { Delete: { TableName: 'Other', Key: { id: S('TENANT#b') } } },
          { ConditionCheck: { TableName: 'T', Key: { PK: S('USER#u'), SK: S('3') } } },
        ],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: `${ARN}/T`, leadingKeys: ['TENANT#a'] },
      { action: 'dynamodb:UpdateItem', resource: `${ARN}/T`, leadingKeys: ['TENANT#a'] },
      { action: 'dynamodb:DeleteItem', resource: `${ARN}/Other`, leadingKeys: ['TENANT#b'] },
      { action: 'dynamodb:ConditionCheckItem', resource: `${ARN}/T`, leadingKeys: ['USER#u'] },
    ]);
    expect(
      await rejection(
        analyze('TransactWriteItems', {
          TransactItems: [{ Put: { TableName: 'T' }, Delete: { TableName: 'T' } }],
        }),
      ),
    ).toBe('ValidationException');
    expect(await rejection(analyze('TransactWriteItems', { TransactItems: [] }))).toBe(
      'ValidationException',
    );
  });

  it('TransactGetItems: GetItem each', async () => {
    expect(
      await analyze('TransactGetItems', {
        TransactItems: [
          { Get: { TableName: 'T', Key: { PK: S('TENANT#a'), SK: S('1') } } },
          { Get: { TableName: 'T', Key: { PK: S('TENANT#b'), SK: S('1') } } },
        ],
      }),
    ).toEqual([
      { action: 'dynamodb:GetItem', resource: `${ARN}/T`, leadingKeys: ['TENANT#a'] },
      { action: 'dynamodb:GetItem', resource: `${ARN}/T`, leadingKeys: ['TENANT#b'] },
    ]);
  });

  it('reads each table schema once per call', async () => {
    looked.length = 0;
    await analyze('TransactGetItems', {
      TransactItems: Array.from({ length: 5 }, (_, i) => ({
        Get: { TableName: 'T', Key: { PK: S(`TENANT#${i}`) } },
      })),
    });
    expect(looked).toEqual(['T']);
  });
});

describe('PartiQL', () => {
  const undetermined = 'PartiQL statements are not parsed for their partition keys';

  it('maps each statement to PartiQL<Verb> on its table or index, keys undetermined', async () => {
    expect(
      await analyze('ExecuteStatement', { Statement: `SELECT * FROM "T"."GSI1" WHERE GSI1PK = ?` }),
    ).toEqual([
      { action: 'dynamodb:PartiQLSelect', resource: `${ARN}/T/index/GSI1`, undetermined },
    ]);
    expect(
      await analyze('BatchExecuteStatement', {
        Statements: [
          { Statement: `INSERT INTO T VALUE {'PK': ?}` },
          { Statement: `update "T" SET x = 1 WHERE PK = ?` },
        ],
      }),
    ).toEqual([
      { action: 'dynamodb:PartiQLInsert', resource: `${ARN}/T`, undetermined },
      { action: 'dynamodb:PartiQLUpdate', resource: `${ARN}/T`, undetermined },
    ]);
    expect(
      await analyze('ExecuteTransaction', {
        TransactStatements: [{ Statement: `DELETE FROM "T" WHERE PK = ?` }],
      }),
    ).toEqual([{ action: 'dynamodb:PartiQLDelete', resource: `${ARN}/T`, undetermined }]);
  });
});
