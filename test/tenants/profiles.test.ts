import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createProfileStore,
  InvalidInputError,
  type ProfileStoreOptions,
  TenantsConfigError,
} from '../../tenants/index.js';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const store = () => createProfileStore({ client: ddb, tableName: 'T', now: () => NOW });

beforeEach(() => mock.reset());

describe('createProfileStore options', () => {
  it('lists every problem at once', () => {
    const error = (() => {
      try {
        createProfileStore({ client: {}, tableName: '' } as unknown as ProfileStoreOptions);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TenantsConfigError);
    expect((error as TenantsConfigError).issues).toEqual([
      'client must be a DynamoDB client',
      'tableName must be a non-empty string',
    ]);
  });

  it('refuses a missing options object', () => {
    expect(() => createProfileStore(undefined as unknown as ProfileStoreOptions)).toThrow(
      TenantsConfigError,
    );
  });
});

describe('recordSignUp', () => {
  it('writes the profile once, conditionally, with the creation time', async () => {
    mock.on(PutCommand).resolves({});
    await expect(store().recordSignUp({ userId: 'u1', email: 'ann@example.com' })).resolves.toBe(
      true,
    );
    const calls = mock.commandCalls(PutCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      TableName: 'T',
      Item: {
        PK: 'USER#u1',
        SK: 'PROFILE',
        type: 'profile',
        userId: 'u1',
        email: 'ann@example.com',
        createdAt: '2026-01-02T03:04:05.000Z',
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
  });

  it('a retried trigger finds the profile and returns false (first write kept)', async () => {
    mock
      .on(PutCommand)
      .resolvesOnce({})
      .rejectsOnce(
        new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        }),
      );
    const s = store();
    await expect(s.recordSignUp({ userId: 'u1', email: 'ann@example.com' })).resolves.toBe(true);
    await expect(s.recordSignUp({ userId: 'u1', email: 'ann@example.com' })).resolves.toBe(false);
    expect(mock.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('surfaces other errors (the trigger fails and Cognito retries it)', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ProvisionedThroughputExceededException',
    });
    mock.on(PutCommand).rejects(throttled);
    await expect(store().recordSignUp({ userId: 'u1', email: 'a@b.c' })).rejects.toBe(throttled);
  });

  it('refuses a missing sub or email, both listed, without writing', async () => {
    const error = await store()
      .recordSignUp({ userId: '', email: undefined as unknown as string })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toEqual([
      { field: 'sub', message: 'is required' },
      { field: 'email', message: 'is required' },
    ]);
    expect(mock.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('defaults the clock to Date.now', async () => {
    mock.on(PutCommand).resolves({});
    const before = Date.now();
    await createProfileStore({ client: ddb, tableName: 'T' }).recordSignUp({
      userId: 'u1',
      email: 'a@b.c',
    });
    const createdAt = Date.parse(
      String(mock.commandCalls(PutCommand)[0]?.args[0].input.Item?.createdAt),
    );
    expect(createdAt).toBeGreaterThanOrEqual(before);
    expect(createdAt).toBeLessThanOrEqual(Date.now());
  });
});
