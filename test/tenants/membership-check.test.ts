import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuthorizerConfigError } from '../../authorizer/index.js';
import { createMembershipCheckWith } from '../../tenants/index.js';
import { createMembershipCheck } from '../../tenants/membership-check.js';
import { thrown } from '../fixtures/tenants.js';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);
const who = { tenantId: 'acme', userId: 'u1', role: 'pilot' };

describe('membership check', () => {
  let t = 0;
  const now = () => t;
  beforeEach(() => {
    mock.reset();
    t = 0;
  });

  it('asks for the membership item and compares the role', async () => {
    mock.on(GetCommand).resolves({ Item: { role: 'pilot' } });
    const check = createMembershipCheck({ client: ddb, tableName: 'T', now });
    expect(await check(who)).toBe(true);
    expect(mock.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'T',
      Key: { PK: 'CONTROL#acme', SK: 'USER#u1' },
    });
    expect(await check({ ...who, role: 'admin' })).toBe(false);
  });

  it('a missing item is not a member', async () => {
    mock.on(GetCommand).resolves({});
    expect(await createMembershipCheck({ client: ddb, tableName: 'T', now })(who)).toBe(false);
  });

  it('caches answers for the TTL, then asks again: a removed member is refused within the bound', async () => {
    mock.on(GetCommand).resolves({ Item: { role: 'pilot' } });
    const check = createMembershipCheck({ client: ddb, tableName: 'T', now });
    expect(await check(who)).toBe(true);
    mock.on(GetCommand).resolves({});
    t = 59_999;
    expect(await check(who)).toBe(true);
    expect(mock.commandCalls(GetCommand)).toHaveLength(1);
    t = 60_000;
    expect(await check(who)).toBe(false);
    expect(mock.commandCalls(GetCommand)).toHaveLength(2);
  });

  it('shares one read between concurrent checks', async () => {
    mock.on(GetCommand).resolves({ Item: { role: 'pilot' } });
    const check = createMembershipCheck({ client: ddb, tableName: 'T', now });
    expect(await Promise.all(Array.from({ length: 10 }, () => check(who)))).toEqual(
      Array(10).fill(true),
    );
    expect(mock.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('a failed read is not cached and propagates (the authorizer turns it into a 500)', async () => {
    mock
      .on(GetCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ Item: { role: 'pilot' } });
    const check = createMembershipCheck({ client: ddb, tableName: 'T', now });
    await expect(check(who)).rejects.toThrow('throttled');
    expect(await check(who)).toBe(true);
  });

  it('keeps at most maxEntries', async () => {
    mock.on(GetCommand).resolves({ Item: { role: 'pilot' } });
    const check = createMembershipCheck({ client: ddb, tableName: 'T', now, maxEntries: 2 });
    await check({ ...who, userId: 'a' });
    await check({ ...who, userId: 'b' });
    await check({ ...who, userId: 'c' });
    await check({ ...who, userId: 'a' });
    expect(mock.commandCalls(GetCommand)).toHaveLength(4);
  });

  it('reads only the role, and answers per (tenant, user, role)', async () => {
    mock.on(GetCommand).resolves({ Item: { role: 'pilot' } });
    const check = createMembershipCheck({ client: ddb, tableName: 'T', now });
    await check(who);
    expect(mock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'T',
      Key: { PK: 'CONTROL#acme', SK: 'USER#u1' },
      ProjectionExpression: '#role',
      ExpressionAttributeNames: { '#role': 'role' },
    });
    // Another tenant, user or role is another question, not a cached answer.
    mock.on(GetCommand).resolves({});
    expect(await check({ ...who, tenantId: 'beta' })).toBe(false);
    expect(await check({ ...who, userId: 'u2' })).toBe(false);
    expect(await check({ ...who, role: 'admin' })).toBe(false);
    expect(mock.commandCalls(GetCommand)).toHaveLength(4);
  });

  it.each([
    [{ ttlMs: 0 }, 0],
    [{ ttlMs: 60_000 }, 0],
    [{ ttlMs: 60_001 }, 1],
    [{ ttlMs: -1 }, 1],
    [{ ttlMs: 1.5 }, 1],
    [{ maxEntries: 1 }, 0],
    [{ maxEntries: 0 }, 1],
    [{ maxEntries: 2.5 }, 1],
  ])('bounds: %j → %d problem(s)', (options, problems) => {
    const issues = (() => {
      try {
        createMembershipCheck({ client: ddb, tableName: 'T', ...options });
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(AuthorizerConfigError);
        return (e as AuthorizerConfigError).issues;
      }
    })();
    expect(issues).toHaveLength(problems);
  });

  it('with a TTL of 0 every check reads the table', async () => {
    mock.on(GetCommand).resolves({ Item: { role: 'pilot' } });
    const check = createMembershipCheck({ client: ddb, tableName: 'T', now, ttlMs: 0 });
    await check(who);
    await check(who);
    expect(mock.commandCalls(GetCommand)).toHaveLength(2);
  });

  it('refuses a TTL above the documented 60 s bound, with every other problem', () => {
    expect(() =>
      createMembershipCheck({ client: ddb, tableName: '', ttlMs: 61_000, maxEntries: 0 }),
    ).toThrow(AuthorizerConfigError);
    try {
      createMembershipCheck({ client: ddb, tableName: '', ttlMs: 61_000, maxEntries: 0 });
    } catch (e) {
      expect((e as AuthorizerConfigError).issues).toEqual([
        'tableName is required',
        'ttlMs must be an integer from 0 to 60000, got 61000',
        'maxEntries must be a positive integer, got 0',
      ]);
    }
  });
});

// A survivor of the tenants/ mutation run on main: the exported core takes any role reader, so it
// checks that it got one.
describe('createMembershipCheckWith', () => {
  it('refuses a role reader that is not a function, by name', () => {
    const error = thrown(() => createMembershipCheckWith(undefined as never, { tableName: 'T' }));
    expect(error).toBeInstanceOf(AuthorizerConfigError);
    expect((error as AuthorizerConfigError).issues).toEqual(['readRole must be a function']);
  });
});
